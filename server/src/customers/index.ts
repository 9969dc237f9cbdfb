import type { Connection } from 'mongoose';
import type { ContactModels, ContactPool } from '../contacts/index.ts';
import type { Guard, HttpModule } from '../http/index.ts';
import type { Logger } from '../observability/index.ts';
import type { OrderModel } from '../orders/index.ts';
import { registerSidebarModels } from '../sidebar-api/index.ts';
import type { SopModels, StandingOf } from '../sop/index.ts';
import { Customers, type FilterOrSegment } from './customers.ts';
import { customerFilterSchema, type ChurnSource, type CustomerFilter } from './filter.ts';
import { registerCustomerModels, type CustomerModels } from './models.ts';
import { CustomerIndexer } from './refresh.ts';
import { customersAdminModule } from './routes.ts';

export { customerFilterSchema, filterFromQuery, type ChurnSource, type CustomerFilter } from './filter.ts';
export { UnknownSegment, type FilterOrSegment } from './customers.ts';
export { registerCustomerModels, type CustomerModels, type CustomerRow, type Segment } from './models.ts';
export { CustomerIndexer } from './refresh.ts';

/** A target as other modules hold it (`{ segmentId }` or `{ filter }`), checked against the filter schema. */
export function audienceSource(target: { segmentId: string } | { filter: unknown }): FilterOrSegment {
  return 'segmentId' in target ? { segmentId: target.segmentId } : customerFilterSchema.parse(target.filter);
}

export interface CustomersDeps {
  connection: Connection;
  contacts: ContactModels;
  orders: OrderModel;
  pool: Pick<ContactPool, 'addTimeline'>;
  /** For the SOP jobs on the customer page; null leaves them out. */
  sop: Pick<SopModels, 'Job' | 'Plan'> | null;
  adminGuard: Guard;
  timeZone: string;
  logger: Logger;
  now?: () => Date;
  /** Churn risk scores for the list column and the minRisk/maxRisk filter (the churn module); absent = none. */
  churn?: ChurnSource;
}

/** What other modules (SOP audiences, bulk tagging, 群发) use, injected by main.ts. */
export interface CustomersModule {
  audience(source: CustomerFilter | FilterOrSegment): AsyncIterable<{ externalUserId: string; userIds: string[] }>;
  count(source: CustomerFilter | FilterOrSegment): Promise<number>;
  has(source: CustomerFilter | FilterOrSegment, externalUserId: string): Promise<boolean>;
  /** Each contact's stage in force (override, else computed) and lead score now: the one notion SOP audiences and branches use. */
  standing: StandingOf;
  http: HttpModule;
  models: CustomerModels;
  indexer: CustomerIndexer;
  /** The periodic index refresh (deltas every minute, scores older than a day); `isLeader` gates it to one instance (lease `customer-index`). */
  start(options?: { isLeader?: () => boolean }): void;
  stop(): void;
}

export async function createCustomers(deps: CustomersDeps): Promise<CustomersModule> {
  const models = registerCustomerModels(deps.connection);
  const sidebar = registerSidebarModels(deps.connection);
  await Promise.all([...Object.values(models), ...Object.values(sidebar)].map((m) => m.init()));
  const now = deps.now ?? (() => new Date());
  const indexer = new CustomerIndexer({ contacts: deps.contacts, orders: deps.orders, stageOverrides: sidebar.StageOverride, models, now, logger: deps.logger.child({ module: 'customers' }) });
  const customers = new Customers({ models, contacts: deps.contacts, indexer, timeZone: deps.timeZone, churn: deps.churn });
  return {
    audience: (source) => customers.audience(source),
    count: (source) => customers.count(source),
    has: (source, externalUserId) => customers.has(source, externalUserId),
    standing: (ids, at) => indexer.standingOf(ids, at),
    http: customersAdminModule({ customers, adminGuard: deps.adminGuard, sidebar, pool: deps.pool, contacts: deps.contacts, orders: deps.orders, sop: deps.sop, models, indexer, now }),
    models,
    indexer,
    start: (options = {}) => indexer.start(undefined, options.isLeader),
    stop: () => indexer.stop(),
  };
}
