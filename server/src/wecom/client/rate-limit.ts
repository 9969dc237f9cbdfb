import type { Clock } from './clock.ts';

/**
 * A token bucket that makes callers wait their turn instead of failing: WeCom answers 45009 once
 * a corp exceeds its per-minute budget, and being throttled costs less than being rejected.
 * Waiters are served in arrival order.
 */
export class RateLimiter {
  private tokens: number;
  private refilledAt: number;
  private readonly perMs: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {
    if (!(perMinute > 0)) throw new Error('rateLimitPerMinute must be positive');
    this.tokens = perMinute;
    this.refilledAt = clock.now();
    this.perMs = perMinute / 60_000;
  }

  /** Resolves when the caller may send one request. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.takeOne());
    // A rejected turn must not stall everyone queued after it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async takeOne(): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil((1 - this.tokens) / this.perMs));
    }
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.perMinute, this.tokens + (now - this.refilledAt) * this.perMs);
    this.refilledAt = now;
  }
}
