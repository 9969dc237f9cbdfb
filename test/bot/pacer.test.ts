import { describe, expect, it } from 'vitest';
import { Pacer, type PacingRules } from '../../server/src/bot/pacer.ts';
import { ManualClock } from './clock.ts';
import { MORNING, PACING } from './pacing.ts';

const RULES = PACING;

/** Sends every queued message, advancing the clock whenever the pacer waits; returns when each went out. */
async function drain(pacer: Pacer, clock: ManualClock, sends: Array<Promise<void>>, log: Array<{ label: string; at: number }>) {
  const all = Promise.all(sends);
  let finished = false;
  void all.then(() => (finished = true));
  while (!finished && log.length < sends.length) {
    await Promise.race([clock.advance(), all]);
  }
  await all;
  return log;
}

function setup(rules: PacingRules = RULES, start = MORNING, random = () => 0.5) {
  const clock = new ManualClock(start);
  const pacer = new Pacer(rules, clock, random);
  const log: Array<{ label: string; at: number }> = [];
  const message = (label: string, chat: { kind: 'contact' | 'room'; id: string }, lane: 'reply' | 'push' = 'push') =>
    pacer.enqueue({ chat, lane, send: async () => void log.push({ label, at: clock.now() }) });
  return { clock, pacer, log, message };
}

describe('pacer', () => {
  it('spaces pushes to one room by the room interval plus jitter, in order', async () => {
    const { clock, pacer, log, message } = setup();
    const sends = Array.from({ length: 5 }, (_, i) => message(`m${i}`, { kind: 'room', id: 'r1' }));
    await drain(pacer, clock, sends, log);
    expect(log.map((l) => l.label)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(log[0]!.at).toBe(MORNING);
    const gaps = log.slice(1).map((l, i) => l.at - log[i]!.at);
    expect(gaps).toEqual([65_000, 65_000, 65_000, 65_000]); // 60 s + half of the 10 s jitter (random = 0.5)
    await pacer.stop();
  });

  it('keeps the whole account under the global rate, across chats', async () => {
    const { clock, pacer, log, message } = setup();
    const sends = ['a', 'b', 'c', 'd'].map((id) => message(id, { kind: 'contact', id }));
    await drain(pacer, clock, sends, log);
    const gaps = log.slice(1).map((l, i) => l.at - log[i]!.at);
    expect(gaps).toEqual([3_000, 3_000, 3_000]); // 20 per minute, evenly spaced
    await pacer.stop();
  });

  it('answers a customer before pending pushes, and holds the next push to that chat back', async () => {
    const { clock, pacer, log, message } = setup();
    const first = message('push-1', { kind: 'contact', id: 'c1' });
    const second = message('push-2', { kind: 'contact', id: 'c1' });
    await drain(pacer, clock, [first], log);
    const reply = message('reply', { kind: 'contact', id: 'c1' }, 'reply');
    await drain(pacer, clock, [first, second, reply], log);
    expect(log.map((l) => l.label)).toEqual(['push-1', 'reply', 'push-2']);
    expect(log[1]!.at - log[0]!.at).toBe(3_000); // a reply waits only for the global spacing
    expect(log[2]!.at - log[1]!.at).toBe(35_000); // a push waits the contact interval after the reply
    await pacer.stop();
  });

  it('holds pushes during quiet hours until they end, but still answers', async () => {
    const night = Date.parse('2026-11-23T15:00:00Z'); // 23:00 in Shanghai
    const { clock, pacer, log, message } = setup(RULES, night);
    const push = message('push', { kind: 'room', id: 'r1' });
    const reply = message('reply', { kind: 'contact', id: 'c1' }, 'reply');
    await drain(pacer, clock, [push, reply], log);
    expect(log[0]).toEqual({ label: 'reply', at: night });
    expect(new Date(log[1]!.at).toISOString()).toBe('2026-11-24T00:00:00.000Z'); // 08:00 in Shanghai
    await pacer.stop();
  });

  it('reports a failed send to its caller and goes on with the next', async () => {
    const { clock, pacer, log, message } = setup();
    const failing = pacer.enqueue({ chat: { kind: 'contact', id: 'x' }, lane: 'reply', send: async () => Promise.reject(new Error('offline')) });
    await expect(failing).rejects.toThrow('offline');
    await drain(pacer, clock, [message('next', { kind: 'contact', id: 'y' })], log);
    expect(log.map((l) => l.label)).toEqual(['next']);
    await pacer.stop();
  });

  it('rejects what is still queued when stopped', async () => {
    const { clock, pacer, log, message } = setup();
    void message('first', { kind: 'room', id: 'r1' }).catch(() => undefined);
    const waiting = message('second', { kind: 'room', id: 'r1' });
    // The first has gone out once the pacer sleeps until the second's slot.
    await clock.nextSleeper();
    expect(log.map((l) => l.label)).toEqual(['first']);
    await pacer.stop();
    await expect(waiting).rejects.toThrow('bot stopped');
    await expect(message('late', { kind: 'room', id: 'r1' })).rejects.toThrow('bot stopped');
  });
});
