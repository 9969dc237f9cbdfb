import { randomUUID } from 'node:crypto';
import mongoose, { type HydratedDocument, type Model } from 'mongoose';
import type { Logger } from '../observability/index.ts';
import type { WorkFields } from './fields.ts';

/** Thrown by a handler when retrying cannot help (bad data, a code WeCom will never accept). */
export class PermanentFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentFailure';
  }
}

/** Thrown by a handler when the item may not run yet (e.g. quiet hours): it waits, no attempt is counted. */
export class DeferWork extends Error {
  constructor(
    readonly until: Date,
    readonly reason: string,
  ) {
    super(`deferred until ${until.toISOString()}: ${reason}`);
    this.name = 'DeferWork';
  }
}

export type WorkOutcome = 'done' | 'retry' | 'dead' | 'deferred' | 'lost_lease';

export interface WorkerOptions<T extends WorkFields> {
  name: string;
  model: Model<T>;
  handle(item: HydratedDocument<T>): Promise<void>;
  logger: Logger;
  /** How long a claim is exclusive; a crashed worker's items become claimable again after it. */
  leaseMs?: number;
  maxAttempts?: number;
  /** Delay before attempt n+1 after n failed attempts. */
  backoffMs?: (attempts: number) => number;
  concurrency?: number;
  /** Poll interval for items that come due by time rather than by a kick. */
  pollMs?: number;
  now?: () => Date;
  onOutcome?: (outcome: WorkOutcome, item: HydratedDocument<T>) => void;
}

const defaultBackoff = (attempts: number) => Math.min(2 ** attempts * 1_000, 10 * 60_000);

/**
 * Runs due work items from a collection, any number of instances side by side: an item is claimed
 * with one atomic findOneAndUpdate (status + lease), so only one worker runs it at a time, and an
 * item whose worker died is reclaimed when its lease expires.
 */
export class QueueWorker<T extends WorkFields> {
  readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly opts: Required<Omit<WorkerOptions<T>, 'onOutcome'>> & Pick<WorkerOptions<T>, 'onOutcome'>;
  private running = false;
  private loops: Array<Promise<void>> = [];
  private wakers: Array<() => void> = [];
  /** Bumped by every kick, so a loop that was busy claiming when the kick came does not sleep through it. */
  private kicks = 0;

  constructor(options: WorkerOptions<T>) {
    this.opts = {
      leaseMs: 60_000,
      maxAttempts: 8,
      backoffMs: defaultBackoff,
      concurrency: 4,
      pollMs: 1_000,
      now: () => new Date(),
      ...options,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.opts.concurrency }, () => this.loop());
  }

  /** Lets items in progress finish, then resolves. */
  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await Promise.all(this.loops);
  }

  /** New work may be due now: look for it without waiting for the next poll. */
  kick(): void {
    this.kicks++;
    [...this.wakers].forEach((wake) => wake());
  }

  /** Processes every item due now, one by one, then resolves. For command-line tools and tests. */
  async drain(): Promise<number> {
    let processed = 0;
    for (let item = await this.claim(); item; item = await this.claim()) {
      await this.process(item);
      processed++;
    }
    return processed;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const kicksBefore = this.kicks;
      try {
        const item = await this.claim();
        if (item) {
          await this.process(item);
          continue;
        }
      } catch (err) {
        this.opts.logger.error({ err, queue: this.opts.name }, 'queue worker error');
      }
      if (this.kicks === kicksBefore) await this.sleepUntilKickOrPoll();
    }
  }

  private sleepUntilKickOrPoll(): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers = this.wakers.filter((w) => w !== wake);
        resolve();
      };
      const timer = setTimeout(wake, this.opts.pollMs);
      this.wakers.push(wake);
    });
  }

  /**
   * Due pending work first, then work whose holder's lease ran out. Two plain queries rather than
   * one $or, so each is a range on one index (see withWorkFields).
   */
  private async claim(): Promise<HydratedDocument<T> | null> {
    const now = this.opts.now();
    const take = {
      $set: {
        status: 'running',
        runAt: null,
        leaseOwner: this.owner,
        leaseUntil: new Date(now.getTime() + this.opts.leaseMs),
      },
      $inc: { attempts: 1 },
    };
    return (
      (await this.opts.model.findOneAndUpdate({ runAt: mongoose.trusted({ $lte: now }) }, take, {
        sort: { runAt: 1 },
        returnDocument: 'after',
      })) ??
      this.opts.model.findOneAndUpdate({ leaseUntil: mongoose.trusted({ $lt: now }) }, take, {
        returnDocument: 'after',
      })
    );
  }

  private async process(item: HydratedDocument<T>): Promise<void> {
    let outcome: WorkOutcome;
    let update: Record<string, unknown>;
    try {
      await this.opts.handle(item);
      outcome = 'done';
      update = { status: 'done', finishedAt: this.opts.now(), lastError: null, leaseUntil: null };
    } catch (err) {
      if (err instanceof DeferWork) {
        outcome = 'deferred';
        update = { status: 'pending', runAt: err.until, leaseUntil: null, attempts: item.attempts - 1 };
        return this.record(item, outcome, update);
      }
      const message = err instanceof Error ? err.message : String(err);
      const permanent = err instanceof PermanentFailure || item.attempts >= this.opts.maxAttempts;
      outcome = permanent ? 'dead' : 'retry';
      update = permanent
        ? { status: 'dead', finishedAt: this.opts.now(), lastError: message, leaseUntil: null }
        : {
            status: 'pending',
            lastError: message,
            leaseUntil: null,
            runAt: new Date(this.opts.now().getTime() + this.opts.backoffMs(item.attempts)),
          };
      this.opts.logger[permanent ? 'error' : 'warn'](
        { err, queue: this.opts.name, id: String(item._id), attempts: item.attempts },
        permanent ? 'work item dead-lettered' : 'work item failed; will retry',
      );
    }
    await this.record(item, outcome, update);
  }

  /** Only the lease holder may record the outcome: a worker that stalled past its lease lost the item. */
  private async record(item: HydratedDocument<T>, outcome: WorkOutcome, update: Record<string, unknown>): Promise<void> {
    const result = await this.opts.model.updateOne({ _id: item._id, leaseOwner: this.owner, status: 'running' }, { $set: update });
    this.opts.onOutcome?.(result.matchedCount === 0 ? 'lost_lease' : outcome, item);
  }
}
