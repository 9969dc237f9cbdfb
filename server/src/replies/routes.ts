import type { Guard, HttpModule } from '../http/index.ts';
import type { Replies } from './sources.ts';

/** Which reply sources count in this deployment (the console shows them beside `replied`). */
export function replySourcesModule(deps: { replies: Replies; adminGuard: Guard }): HttpModule {
  return {
    name: 'reply-sources',
    mount(router) {
      router.get('/api/admin/reply-sources', deps.adminGuard, (ctx) => {
        ctx.body = { sources: deps.replies.sources() };
      });
    },
  };
}
