export { createApp, type AppDeps } from './app.ts';
export { startHttpServer, type RunningHttpServer } from './server.ts';
export { requireAdmin } from './admin-auth.ts';
export type { AppContext, AppRouter, AppState, HttpModule } from './context.ts';
