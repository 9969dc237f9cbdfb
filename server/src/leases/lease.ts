import type { Logger } from '../observability/index.ts';
import type { LeaseBook } from './book.ts';

/** The work a lease guards: started when this instance takes the lease, stopped before it can pass on. */
export interface Leadership {
  start(): Promise<void> | void;
  /** Must end the work completely: the lease may pass to another instance once this resolves. */
  stop(): Promise<void> | void;
}

/** What /healthz and the bot page say about a lease. */
export interface LeaseView {
  name: string;
  /** This instance's holder id. */
  self: string;
  /** Who holds it now (this instance included); null when nobody does or the store did not say. */
  holder: string | null;
  held: boolean;
}

export interface LeaseOptions {
  name: string;
  holder: string;
  book: LeaseBook;
  leaseMs: number;
  logger: Logger;
  leads?: Leadership;
  /** Take the lease at most once per process: for work that cannot start again after a stop (the bot). */
  once?: boolean;
  onChange?: (view: LeaseView) => void;
  /** Never take it, only follow who holds it (a web instance reporting where the bot runs). */
  observe?: boolean;
  now?: () => number;
}

/**
 * Holds one named lease for as long as it can: tries to take (or renew) it every leaseMs/3. A
 * holder that fails to renew, or whose renewal is overdue by then, stops what it leads at once,
 * leaving a third of the lease for the stop to finish before anyone else may take it; another
 * instance takes it only after it expired (or was released), so the work never runs twice.
 */
export class Lease {
  private held = false;
  /** The lease's expiry as this instance wrote it: nobody else can hold it before then. */
  private validUntil = 0;
  private otherHolder: string | null = null;
  private stopped = false;
  private spent = false;
  private round: Promise<void> | null = null;
  private stopping: Promise<void> = Promise.resolve();
  private interval: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: LeaseOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ module: 'leases', lease: opts.name, holder: opts.holder });
  }

  get name(): string {
    return this.opts.name;
  }

  /** Whether to do the guarded work now: held, and not so close to expiry that it should be wrapping up. */
  isLeader(): boolean {
    return this.held && this.now() < this.validUntil - this.stopBudget();
  }

  view(): LeaseView {
    return { name: this.opts.name, self: this.opts.holder, holder: this.held ? this.opts.holder : this.otherHolder, held: this.held };
  }

  /** One attempt now, then one every leaseMs/3. */
  async start(): Promise<void> {
    await this.beat();
    if (this.stopped) return;
    this.interval = setInterval(() => void this.beat(), Math.max(1, Math.floor(this.opts.leaseMs / 3)));
    this.interval.unref();
  }

  /** One take-or-renew round (the timer's; tests call it on their own clock). Rounds never overlap. */
  beat(): Promise<void> {
    this.round ??= this.tryHold().finally(() => (this.round = null));
    return this.round;
  }

  /**
   * Stops what it leads and gives the lease up. `release: false` leaves it to expire, as a process
   * that died would (tests simulate a crash with it).
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    await this.round;
    if (this.held) await this.lose('stopping', options.release ?? true);
    await this.stopping;
  }

  private stopBudget(): number {
    return this.opts.leaseMs / 3;
  }

  private async tryHold(): Promise<void> {
    if (this.stopped || (this.spent && !this.held)) return;
    if (this.opts.observe) {
      this.otherHolder = (await this.opts.book.holderOf(this.opts.name, new Date(this.now())).catch(() => null))?.holder ?? null;
      if (!this.stopped) this.opts.onChange?.(this.view());
      return;
    }
    const at = this.now();
    let taken = false;
    try {
      taken = await this.opts.book.take(this.opts.name, this.opts.holder, new Date(at), this.opts.leaseMs);
    } catch (err) {
      this.log.warn({ err }, 'lease could not be taken or renewed (store unreachable?)');
    }
    if (this.stopped) return;
    if (taken && !this.held && this.spent) {
      // Taken back while the once-only work was being stopped: hand it straight on.
      await this.opts.book.release(this.opts.name, this.opts.holder).catch(() => undefined);
    } else if (taken) {
      this.validUntil = at + this.opts.leaseMs;
      this.armDeadline();
      if (!this.held) await this.lead();
    } else if (this.held) {
      await this.lose('renewal refused or failed', true);
    } else {
      this.otherHolder = (await this.opts.book.holderOf(this.opts.name, new Date(this.now())).catch(() => null))?.holder ?? null;
    }
    this.opts.onChange?.(this.view());
  }

  private async lead(): Promise<void> {
    // A stop from an earlier term may still be under way: the work never runs twice here either.
    await this.stopping;
    this.held = true;
    this.otherHolder = null;
    if (this.opts.once) this.spent = true;
    this.log.info({ until: new Date(this.validUntil).toISOString() }, 'lease taken: leading');
    try {
      await this.opts.leads?.start();
    } catch (err) {
      this.log.error({ err }, 'leading failed to start (the lease stays held; its work is not running)');
    }
  }

  /** Stops leading; resolves once the guarded work has stopped (and the lease is released if asked). */
  private lose(reason: string, release: boolean): Promise<void> {
    if (!this.held) return this.stopping;
    this.held = false;
    if (this.deadline) clearTimeout(this.deadline);
    this.log.warn({ reason }, 'lease lost or given up: stopping what it leads');
    const previous = this.stopping;
    this.stopping = (async () => {
      await previous;
      try {
        await this.opts.leads?.stop();
      } catch (err) {
        this.log.error({ err }, 'stopping the leased work failed');
      }
      if (release) await this.opts.book.release(this.opts.name, this.opts.holder).catch((err: unknown) => this.log.warn({ err }, 'lease release failed (it expires by itself)'));
      this.opts.onChange?.(this.view());
    })();
    return this.stopping;
  }

  /** A renewal that hangs must not keep the work running into another instance's term. */
  private armDeadline(): void {
    if (this.deadline) clearTimeout(this.deadline);
    const wait = this.validUntil - this.stopBudget() - this.now();
    this.deadline = setTimeout(() => void this.lose('renewal overdue', true), Math.max(0, wait));
    this.deadline.unref();
  }

  private clearTimers(): void {
    if (this.interval) clearInterval(this.interval);
    if (this.deadline) clearTimeout(this.deadline);
    this.interval = this.deadline = null;
  }
}
