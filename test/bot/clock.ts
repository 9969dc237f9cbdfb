import type { Clock } from '../../server/src/bot/index.ts';

/**
 * A clock the test moves: sleepers wait until `advance()` jumps time to the earliest of them, so
 * pacing over minutes runs in milliseconds and every interval can be checked exactly.
 */
export class ManualClock implements Clock {
  private readonly sleepers = new Set<{ until: number; wake: () => void }>();
  private arrived: (() => void) | null = null;

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const sleeper = { until: this.t + ms, wake: () => (this.sleepers.delete(sleeper), resolve()) };
      this.sleepers.add(sleeper);
      signal.addEventListener('abort', sleeper.wake, { once: true });
      this.arrived?.();
    });
  }

  /** Resolves once something sleeps until a finite time (the pacer is waiting for its next slot). */
  async nextSleeper(): Promise<number> {
    for (;;) {
      const finite = [...this.sleepers].filter((s) => Number.isFinite(s.until));
      if (finite.length > 0) return Math.min(...finite.map((s) => s.until));
      await new Promise<void>((resolve) => (this.arrived = resolve));
    }
  }

  /** Jumps to the earliest finite sleeper's time and wakes it. */
  async advance(): Promise<void> {
    const until = await this.nextSleeper();
    this.t = Math.max(this.t, until);
    for (const sleeper of [...this.sleepers]) if (sleeper.until <= this.t) sleeper.wake();
  }

  /** Keeps advancing whenever something sleeps, so paced sends go out at once; returns a stop function. */
  autoAdvance(): () => void {
    let running = true;
    void (async () => {
      while (running) await this.advance();
    })();
    return () => {
      running = false;
    };
  }
}
