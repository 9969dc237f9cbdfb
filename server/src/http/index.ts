export { createApp, type AppDeps } from './app.ts';
export { startHttpServer, type RunningHttpServer } from './server.ts';
export { requireAdmin, requireRep, sameSecret, type Guard } from './admin-auth.ts';
export { Sessions, readSignedCookie, setSignedCookie, type Session, type SessionKind } from './sessions.ts';
export type { AppContext, AppRouter, AppState, HttpModule } from './context.ts';
