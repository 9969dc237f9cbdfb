import type { Connection } from 'mongoose';
import type { Logger } from '../observability/index.ts';
import { LeaseBook, registerLeaseModel } from './book.ts';
import { Lease, type LeaseOptions } from './lease.ts';

export { LeaseBook, registerLeaseModel, type LeaseModel, type LeaseRecord } from './book.ts';
export { Lease, type Leadership, type LeaseOptions, type LeaseView } from './lease.ts';

/** The names of the instance-wide singletons (one instance at a time runs each). */
export const LEASES = { bot: 'bot', sopTick: 'sop-tick', customerIndex: 'customer-index' } as const;

export interface Leases {
  /** This instance's holder id (instance name plus a random suffix: two processes never share one). */
  holder: string;
  book: LeaseBook;
  lease(name: string, options?: Pick<LeaseOptions, 'leads' | 'once' | 'onChange' | 'observe'>): Lease;
  all(): Lease[];
  /** First attempt at every lease, then keeps them renewed. */
  start(): Promise<void>;
  stop(options?: { release?: boolean }): Promise<void>;
}

export function createLeases(deps: { connection: Connection; holder: string; leaseMs: number; logger: Logger; now?: () => number }): Leases {
  const book = new LeaseBook(registerLeaseModel(deps.connection));
  const leases: Lease[] = [];
  return {
    holder: deps.holder,
    book,
    lease(name, options = {}) {
      const lease = new Lease({ name, holder: deps.holder, book, leaseMs: deps.leaseMs, logger: deps.logger, ...(deps.now ? { now: deps.now } : {}), ...options });
      leases.push(lease);
      return lease;
    },
    all: () => [...leases],
    async start() {
      await Promise.all(leases.map((lease) => lease.start()));
    },
    async stop(options) {
      await Promise.all(leases.map((lease) => lease.stop(options)));
    },
  };
}
