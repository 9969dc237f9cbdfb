import type { Guard, HttpModule } from '../http/index.ts';
import type { Analytics } from './analytics.ts';
import { periodQuery } from './period.ts';

/** `/api/admin/analytics`: the metric report, plus the dashboard's series, funnel and activity tables. */
export function analyticsModule(deps: { analytics: Analytics; adminGuard: Guard; timeZone: string }): HttpModule {
  const query = periodQuery(deps.timeZone);
  const { analytics } = deps;
  return {
    name: 'analytics',
    mount(router) {
      const admin = deps.adminGuard;
      router.get('/api/admin/analytics', admin, async (ctx) => {
        const { from, to, period } = query.parse(ctx.query);
        ctx.body = { from, to, ...(await analytics.report(period)) };
      });
      router.get('/api/admin/analytics/series', admin, async (ctx) => {
        const { from, to, period } = query.parse(ctx.query);
        ctx.body = { from, to, ...(await analytics.series(period)) };
      });
      router.get('/api/admin/analytics/sop-funnel', admin, async (ctx) => {
        const { from, to, period } = query.parse(ctx.query);
        ctx.body = { from, to, steps: await analytics.sopFunnel(period) };
      });
      router.get('/api/admin/analytics/reps', admin, async (ctx) => {
        const { from, to, period } = query.parse(ctx.query);
        ctx.body = { from, to, reps: await analytics.repActivity(period) };
      });
      router.get('/api/admin/analytics/scripts', admin, async (ctx) => {
        const { from, to, period } = query.parse(ctx.query);
        ctx.body = { from, to, scripts: await analytics.scriptUsage(period) };
      });
    },
  };
}
