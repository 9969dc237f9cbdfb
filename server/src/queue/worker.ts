import { randomUUID } from 'node:crypto';
import mongoose, { type HydratedDocument, type Model } from 'mongoose';
import type { Logger } from '../observability/index.ts';
import { UpdateBatches } from '../store/index.ts';
import { claimBatch } from './claim.ts';
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
    /** Fields of the item to set with it: how far it got, for a handler that works in stages. */
    readonly progress: Record<string, unknown> = {},
  ) {
    super(`deferred until ${until.toISOString()}: ${reason}`);
    this.name = 'DeferWork';
  }
}

export type WorkOutcome = 'done' | 'retry' | 'dead' | 'deferred' | 'lost_lease';

export interface WorkerOptions<T extends WorkFields> {
  name: string;
  model: Model<T>;
  /** May resolve fields to record with the item's completion (its outcome), in the same write as its status. */
  handle(item: HydratedDocument<T>): Promise<Record<string, unknown> | void>;
  logger: Logger;
  /** How long a claim is exclusive; a crashed worker's items become claimable again after it. */
  leaseMs?: number;
  maxAttempts?: number;
  /** Delay before attempt n+1 after n failed attempts. */
  backoffMs?: (attempts: number) => number;
  concurrency?: number;
  /**
   * How many due items one claim takes (default 1). Above 1, the loops share a small buffer filled
   * by one claim (three round trips for the whole batch) instead of one findOneAndUpdate per item —
   * for queues of many short items (a 100,000-contact mass send). Keep it near `concurrency`: a
   * buffered item's lease runs while it waits. Batches ignore `urgentBy`.
   */
  claimBatch?: number;
  /**
   * Called with each batch a claim won, before its items run: a handler's reads for the whole batch
   * in one query each (a 100,000-contact mass send) instead of per item. Items of a failed call run anyway.
   */
  prepare?(items: Array<HydratedDocument<T>>): Promise<void>;
  /** Poll interval for items that come due by time rather than by a kick. */
  pollMs?: number;
  now?: () => Date;
  onOutcome?: (outcome: WorkOutcome, item: HydratedDocument<T>) => void;
  /**
   * A date field marking urgent items (the inbox's welcome deadlines): due items whose value is still
   * ahead are claimed before any other, earliest first. Every claim clears it, so the field only ever
   * indexes items that wait (one single-field index, like runAt) and a retry goes the ordinary way.
   */
  urgentBy?: keyof T & string;
}

const defaultBackoff = (attempts: number) => Math.min(2 ** attempts * 1_000, 10 * 60_000);

/**
 * Runs due work items from a collection, any number of instances side by side: an item is claimed
 * with one atomic findOneAndUpdate (status + lease), so only one worker runs it at a time, and an
 * item whose worker died is reclaimed when its lease expires.
 */
export class QueueWorker<T extends WorkFields> {
  readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly opts: Required<Omit<WorkerOptions<T>, 'onOutcome' | 'urgentBy' | 'prepare'>> & Pick<WorkerOptions<T>, 'onOutcome' | 'urgentBy' | 'prepare'>;
  private running = false;
  private loops: Array<Promise<void>> = [];
  private wakers: Array<() => void> = [];
  /** Bumped by every kick, so a loop that was busy claiming when the kick came does not sleep through it. */
  private kicks = 0;
  /** Batch claims: items won but not yet started, and the claim in flight that the loops share. */
  private buffer: Array<HydratedDocument<T>> = [];
  private claiming: Promise<number> | null = null;
  /**
   * When a batch claim last found nothing, and the kick count it started at: the loops sleep on
   * timers of their own, so without this each of them would query again on waking (sixteen claims a
   * second on an idle queue instead of one).
   */
  private lastEmpty = { at: 0, kicks: -1 };
  /** Outcomes of the items finishing together go to the store together (group commit). */
  private readonly records: UpdateBatches<T>;

  constructor(options: WorkerOptions<T>) {
    this.opts = {
      leaseMs: 60_000,
      maxAttempts: 8,
      backoffMs: defaultBackoff,
      concurrency: 4,
      claimBatch: 1,
      pollMs: 1_000,
      now: () => new Date(),
      ...options,
    };
    this.records = new UpdateBatches(this.opts.model);
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
    await this.releaseBuffered();
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

  /**
   * Claims the one due item matching `filter` and processes it here and now, as the poll loop would
   * (same lease, same outcome bookkeeping). Null when no such item is due or another worker has it.
   */
  async runNow(filter: Record<string, unknown>): Promise<WorkOutcome | null> {
    const item = await this.opts.model.findOneAndUpdate(
      { ...filter, runAt: mongoose.trusted({ $lte: this.opts.now() }) },
      this.take(),
      { returnDocument: 'after' },
    );
    return item ? this.process(item) : null;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const kicksBefore = this.kicks;
      try {
        const item = await this.next();
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
   * Urgent work first (see urgentBy), then due pending work, then work whose holder's lease ran out.
   * Plain queries rather than one $or, so each is a range on one index (see withWorkFields).
   */
  private async claim(): Promise<HydratedDocument<T> | null> {
    const now = this.opts.now();
    const take = this.take();
    const { urgentBy } = this.opts;
    const urgent = urgentBy
      ? await this.opts.model.findOneAndUpdate(
          { [urgentBy]: mongoose.trusted({ $gte: now }), runAt: mongoose.trusted({ $lte: now }) },
          take,
          { sort: { [urgentBy]: 1 }, returnDocument: 'after' },
        )
      : null;
    return (
      urgent ??
      (await this.opts.model.findOneAndUpdate({ runAt: mongoose.trusted({ $lte: now }) }, take, {
        sort: { runAt: 1 },
        returnDocument: 'after',
      })) ??
      this.opts.model.findOneAndUpdate({ leaseUntil: mongoose.trusted({ $lt: now }) }, take, {
        returnDocument: 'after',
      })
    );
  }

  /** The next item for a loop: claimed alone, or taken from the batch buffer (refilled by one loop at a time). */
  private async next(): Promise<HydratedDocument<T> | null> {
    if (this.opts.claimBatch <= 1) return this.claim();
    for (;;) {
      const item = this.buffer.shift();
      if (item) {
        // One whose lease ran out while it waited may already be another worker's: leave it to them.
        if (item.leaseUntil && item.leaseUntil > this.opts.now()) return item;
        continue;
      }
      if (!this.running) return null;
      if (this.lastEmpty.kicks === this.kicks && performance.now() - this.lastEmpty.at < this.opts.pollMs) return null;
      this.claiming ??= this.fill().finally(() => (this.claiming = null));
      if ((await this.claiming) === 0 && this.buffer.length === 0) return null;
    }
  }

  private async fill(): Promise<number> {
    const kicks = this.kicks;
    const take = this.take();
    const won = await claimBatch(this.opts.model, take, this.opts.now(), this.opts.claimBatch);
    if (won.length > 0 && this.opts.prepare) {
      await this.opts.prepare(won).catch((err: unknown) => this.opts.logger.warn({ err, queue: this.opts.name }, 'batch preparation failed; items read their own'));
    }
    this.buffer.push(...won);
    if (won.length === 0) this.lastEmpty = { at: performance.now(), kicks };
    return won.length;
  }

  /** On stop, items claimed but never started go back at once rather than waiting out their lease. */
  private async releaseBuffered(): Promise<void> {
    const left = this.buffer.splice(0);
    await Promise.all(
      left.map((item) =>
        this.opts.model.updateOne(
          { _id: item._id, leaseOwner: item.leaseOwner, status: 'running' },
          { $set: { status: 'pending', runAt: this.opts.now(), leaseOwner: null, leaseUntil: null, attempts: item.attempts - 1 } },
        ),
      ),
    );
  }

  private take() {
    const now = this.opts.now();
    return {
      $set: {
        status: 'running',
        runAt: null,
        leaseOwner: this.owner,
        leaseUntil: new Date(now.getTime() + this.opts.leaseMs),
        ...(this.opts.urgentBy ? { [this.opts.urgentBy]: null } : {}),
      },
      $inc: { attempts: 1 },
    };
  }

  private async process(item: HydratedDocument<T>): Promise<WorkOutcome> {
    let outcome: WorkOutcome;
    let update: Record<string, unknown>;
    try {
      const result = await this.opts.handle(item);
      outcome = 'done';
      update = { ...result, status: 'done', finishedAt: this.opts.now(), lastError: null, leaseUntil: null };
    } catch (err) {
      if (err instanceof DeferWork) {
        outcome = 'deferred';
        update = { ...err.progress, status: 'pending', runAt: err.until, leaseUntil: null, attempts: item.attempts - 1 };
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
    return this.record(item, outcome, update);
  }

  /** Only the lease holder may record the outcome: a worker that stalled past its lease lost the item. */
  private async record(item: HydratedDocument<T>, outcome: WorkOutcome, update: Record<string, unknown>): Promise<WorkOutcome> {
    const matched =
      (await this.records.updateOne({ _id: item._id, leaseOwner: this.owner, status: 'running' }, { $set: update })) ??
      // Its batch only counted: ours if it still names this worker and no longer runs. (Recorded as due
      // again it is pending with a runAt ahead, so no other worker can have taken it in between.)
      (await this.opts.model.exists({ _id: item._id, leaseOwner: this.owner, status: mongoose.trusted({ $ne: 'running' }) })) !== null;
    const recorded = matched ? outcome : 'lost_lease';
    this.opts.onOutcome?.(recorded, item);
    return recorded;
  }
}
