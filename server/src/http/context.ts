import type { DefaultContext, ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import type { Logger } from '../observability/index.ts';

/** What every request carries once the base middleware has run. */
export interface AppState {
  requestId: string;
  log: Logger;
  /** Set by requireRep: the signed-in rep's WeCom userid. */
  repId?: string;
  /** Set by requireAdmin: the admin's userid, or 'token' for ADMIN_TOKEN callers. */
  adminId?: string;
}

export type AppContext = ParameterizedContext<AppState, DefaultContext>;
export type AppRouter = Router<AppState, DefaultContext>;

/** A capability's HTTP surface: it adds its routes to the shared router; the root decides which modules exist. */
export interface HttpModule {
  name: string;
  mount(router: AppRouter): void;
}
