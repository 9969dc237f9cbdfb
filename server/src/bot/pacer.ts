import { quietUntil } from '../sop/index.ts';

/** Time as the pacer sees it; tests pass a clock they advance by hand instead of waiting real minutes. */
export interface Clock {
  now(): number;
  /** Resolves after `ms` (never, for Infinity) or as soon as `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    }),
};

/**
 * How a personal WeChat account that is not banned sends: never two pushes to one chat close
 * together, a little randomness, a ceiling on messages per minute for the whole account, and
 * nothing pushed at night.
 */
export interface PacingRules {
  contactIntervalMs: number;
  roomIntervalMs: number;
  /** Up to this much is added at random to each interval. */
  jitterMs: number;
  /** Messages per minute across all chats, replies included; enforced as an even spacing (no bursts). */
  ratePerMinute: number;
  /** Local window with no pushes (replies to a customer who just wrote still go out). */
  quietHours: { start: string; end: string } | null;
  timeZone: string;
}

/** reply: an answer to someone who just wrote, goes first. push: the bot speaks first (SOP), fully paced. */
export type Lane = 'reply' | 'push';

export interface Outgoing {
  chat: { kind: 'contact' | 'room'; id: string };
  lane: Lane;
  send: () => Promise<void>;
}

interface Queued extends Outgoing {
  done: (err?: unknown) => void;
}

/**
 * One sender for the whole account: messages leave one at a time, replies before pushes, each push
 * only once its chat's interval has passed. Per chat, messages keep their order.
 */
export class Pacer {
  private readonly queue: Queued[] = [];
  /** When each chat may next get a push. */
  private readonly readyAt = new Map<string, number>();
  private nextGlobal = 0;
  private wake: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly rules: PacingRules,
    private readonly clock: Clock = systemClock,
    private readonly random: () => number = Math.random,
  ) {}

  /** Resolves once the message has gone out; rejects if sending failed or the pacer stopped first. */
  enqueue(message: Outgoing): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('bot stopped'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...message, done: (err) => (err === undefined ? resolve() : reject(err)) });
      this.loop ??= this.run();
      this.wake?.abort();
    });
  }

  /** Messages waiting to go out. */
  get waiting(): number {
    return this.queue.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.abort();
    for (const item of this.queue.splice(0)) item.done(new Error('bot stopped'));
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const now = this.clock.now();
      const next = this.pick(now);
      if (!next || next.at > now) {
        this.wake = new AbortController();
        await this.clock.sleep(next ? next.at - now : Infinity, this.wake.signal);
        continue;
      }
      this.queue.splice(this.queue.indexOf(next.item), 1);
      try {
        await next.item.send();
        next.item.done();
      } catch (err) {
        next.item.done(err);
      }
      this.sent(next.item, this.clock.now());
    }
  }

  private sent(item: Queued, at: number): void {
    this.nextGlobal = at + 60_000 / this.rules.ratePerMinute;
    const interval = item.chat.kind === 'room' ? this.rules.roomIntervalMs : this.rules.contactIntervalMs;
    const key = chatKey(item);
    // A reply also holds back the next push to that chat: a push right after an answer reads as spam.
    this.readyAt.set(key, Math.max(this.readyAt.get(key) ?? 0, at + interval + Math.floor(this.random() * this.rules.jitterMs)));
  }

  /** The message to send next and when it may go. */
  private pick(now: number): { item: Queued; at: number } | null {
    const earliest = Math.max(now, this.nextGlobal);
    const reply = this.queue.find((item) => item.lane === 'reply');
    if (reply) return { item: reply, at: earliest };
    let best: { item: Queued; at: number } | null = null;
    const seen = new Set<string>();
    for (const item of this.queue) {
      const key = chatKey(item);
      if (seen.has(key)) continue; // only the first waiting push of each chat is eligible
      seen.add(key);
      let at = Math.max(earliest, this.readyAt.get(key) ?? 0);
      const quietEnd = this.rules.quietHours ? quietUntil(new Date(at), this.rules.quietHours, this.rules.timeZone) : null;
      if (quietEnd) at = quietEnd.getTime();
      if (!best || at < best.at) best = { item, at };
    }
    return best;
  }
}

const chatKey = (item: Outgoing) => `${item.chat.kind}:${item.chat.id}`;

