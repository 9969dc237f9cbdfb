import type { DefaultContext, ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import type { Logger } from '../observability/index.ts';

/** What every request carries once the base middleware has run. */
export interface AppState {
  requestId: string;
  log: Logger;
}

export type AppContext = ParameterizedContext<AppState, DefaultContext>;
export type AppRouter = Router<AppState, DefaultContext>;

/** A capability's HTTP surface: it adds its routes to the shared router; the root decides which modules exist. */
export interface HttpModule {
  name: string;
  mount(router: AppRouter): void;
}
