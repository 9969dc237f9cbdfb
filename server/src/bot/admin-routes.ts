import { z } from 'zod';
import type { Guard, HttpModule } from '../http/index.ts';
import type { HandoffDesk } from './handoffs.ts';
import type { BotStatus } from './status.ts';

const contactId = z.string().min(1).max(128);

/**
 * `/api/admin/bot`: login state and QR code for the console's 机器人 page, the customers handed
 * off to reps, and resuming the bot for one of them. `handoffs` is null while the bot is disabled.
 */
export function botAdminModule(deps: { status: BotStatus; handoffs: HandoffDesk | null; adminGuard: Guard }): HttpModule {
  return {
    name: 'bot-admin',
    mount(router) {
      const admin = deps.adminGuard;
      router.get('/api/admin/bot', admin, (ctx) => {
        ctx.body = deps.status.view();
      });
      router.get('/api/admin/bot/handoffs', admin, async (ctx) => {
        ctx.body = { handoffs: deps.handoffs ? await deps.handoffs.active() : [] };
      });
      router.post('/api/admin/bot/handoffs/:contactId/resume', admin, async (ctx) => {
        const id = contactId.parse(ctx.params.contactId);
        if (!deps.handoffs || !(await deps.handoffs.resume(id, new Date()))) ctx.throw(404, `no active hand-off for ${id}`);
        ctx.status = 204;
      });
    },
  };
}
