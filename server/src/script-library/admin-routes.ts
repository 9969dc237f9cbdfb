import { z } from 'zod';
import type { Guard, HttpModule } from '../http/index.ts';
import { scriptKey, type ScriptLibrary } from './library.ts';

const listQuery = z.object({ category: z.string().trim().min(1).max(30).optional() });

/** `/api/admin/scripts`: the console's script and FAQ library management. */
export function scriptsAdminModule(deps: { library: ScriptLibrary; adminGuard: Guard }): HttpModule {
  const { library } = deps;
  return {
    name: 'scripts-admin',
    mount(router) {
      const admin = deps.adminGuard;
      router.get('/api/admin/scripts', admin, async (ctx) => {
        const { category } = listQuery.parse(ctx.query);
        ctx.body = { scripts: await library.list(category ? { category } : {}) };
      });
      router.get('/api/admin/scripts/:key', admin, async (ctx) => {
        const script = await library.get(scriptKey.parse(ctx.params.key));
        if (!script) ctx.throw(404, `no script ${ctx.params.key}`);
        ctx.body = { script };
      });
      router.put('/api/admin/scripts/:key', admin, async (ctx) => {
        const { created, script } = await library.put(scriptKey.parse(ctx.params.key), ctx.request.body as never);
        ctx.status = created ? 201 : 200;
        ctx.body = { script };
      });
      router.delete('/api/admin/scripts/:key', admin, async (ctx) => {
        if (!(await library.remove(scriptKey.parse(ctx.params.key)))) ctx.throw(404, `no script ${ctx.params.key}`);
        ctx.status = 204;
      });
    },
  };
}
