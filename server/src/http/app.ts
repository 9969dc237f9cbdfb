import Koa from 'koa';
import { Router } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Health, Logger, Metrics } from '../observability/index.ts';
import type { AppContext, AppRouter, AppState, HttpModule } from './context.ts';
import { errorResponses, observeRequests, requestContext } from './middleware.ts';

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  health: Health;
  bodyLimitKb: number;
  /** Trust X-Forwarded-* (behind a load balancer). */
  proxy?: boolean;
  /** Keys that sign session cookies (SESSION_SECRET); without them no signed cookie can be set. */
  cookieKeys?: string[];
  modules?: HttpModule[];
}

/** The Koa app with the base middleware and the operational endpoints; capabilities come in as modules. */
export function createApp(deps: AppDeps): Koa<AppState, AppContext> {
  const app = new Koa<AppState, AppContext>({ proxy: deps.proxy ?? false });
  // Errors are answered and logged by errorResponses(); Koa's default handler would print them again.
  app.silent = true;
  if (deps.cookieKeys) app.keys = deps.cookieKeys;

  const router: AppRouter = new Router();
  router.get('/healthz', async (ctx) => {
    const report = await deps.health.report();
    ctx.status = report.status === 'down' ? 503 : 200;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = report;
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  for (const module of deps.modules ?? []) module.mount(router);

  const limit = `${deps.bodyLimitKb}kb`;
  app
    .use(requestContext(deps.logger))
    .use(observeRequests(deps.metrics))
    .use(errorResponses())
    .use(bodyParser({ enableTypes: ['json', 'form'], jsonLimit: limit, formLimit: limit }))
    .use(router.routes())
    .use(router.allowedMethods());
  return app;
}
