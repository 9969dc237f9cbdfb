import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lease, LeaseBook, registerLeaseModel } from '../../server/src/leases/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { openTestStore } from '../support/db.ts';

const LEASE_MS = 30_000;
const logger = createLogger({ level: 'silent' });

let store: Awaited<ReturnType<typeof openTestStore>>;
let book: LeaseBook;
beforeAll(async () => {
  store = await openTestStore();
  const model = registerLeaseModel(store.connection);
  await model.init();
  book = new LeaseBook(model);
});
afterAll(async () => {
  await store?.dispose();
});

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

describe('the lease book', () => {
  it('lets one holder take a free lease, renew it, and nobody else take it before it expires', async () => {
    expect(await book.take('t1', 'a', at(0), LEASE_MS)).toBe(true);
    expect(await book.take('t1', 'b', at(1_000), LEASE_MS)).toBe(false);
    expect(await book.take('t1', 'a', at(10_000), LEASE_MS)).toBe(true); // renewed: now until 40 s
    expect(await book.take('t1', 'b', at(35_000), LEASE_MS)).toBe(false);
    expect(await book.holderOf('t1', at(35_000))).toMatchObject({ holder: 'a' });
  });

  it('passes an expired lease to the next taker, and the old holder cannot renew it back', async () => {
    expect(await book.take('t2', 'a', at(0), LEASE_MS)).toBe(true);
    expect(await book.holderOf('t2', at(LEASE_MS))).toBeNull();
    expect(await book.take('t2', 'b', at(LEASE_MS), LEASE_MS)).toBe(true);
    expect(await book.take('t2', 'a', at(LEASE_MS + 1), LEASE_MS)).toBe(false);
  });

  it('frees a released lease at once; a release by a non-holder does nothing', async () => {
    expect(await book.take('t3', 'a', at(0), LEASE_MS)).toBe(true);
    await book.release('t3', 'b');
    expect(await book.take('t3', 'b', at(1), LEASE_MS)).toBe(false);
    await book.release('t3', 'a');
    expect(await book.take('t3', 'b', at(2), LEASE_MS)).toBe(true);
  });

  it('gives a lease to exactly one of many simultaneous takers', async () => {
    const takers = Array.from({ length: 10 }, (_, i) => `h${i}`);
    const results = await Promise.all(takers.map((h) => book.take('t4', h, at(0), LEASE_MS)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe('a lease held on a controllable clock', () => {
  it('leads on one instance at a time: stops before expiry when it cannot renew, the other starts only after expiry', async () => {
    let now = at(0).getTime();
    const clock = () => now;
    const running = new Set<string>();
    const overlaps: number[] = [];
    const leads = (who: string) => ({
      start: () => {
        running.add(who);
        if (running.size > 1) overlaps.push(now);
      },
      stop: () => void running.delete(who),
    });
    // Instance a cannot reach the store once `aOffline` is set (its renewals fail).
    let aOffline = false;
    const offlineBook = Object.create(book) as LeaseBook;
    offlineBook.take = (...args) => (aOffline ? Promise.reject(new Error('store unreachable')) : book.take(...args));
    const a = new Lease({ name: 't5', holder: 'a', book: offlineBook, leaseMs: LEASE_MS, logger, leads: leads('a'), now: clock });
    const b = new Lease({ name: 't5', holder: 'b', book, leaseMs: LEASE_MS, logger, leads: leads('b'), now: clock });

    await a.beat();
    await b.beat();
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect(b.view()).toMatchObject({ held: false, holder: 'a' });

    now += LEASE_MS / 3;
    await Promise.all([a.beat(), b.beat()]);
    expect(running).toEqual(new Set(['a']));

    aOffline = true;
    now += LEASE_MS / 3;
    await Promise.all([a.beat(), b.beat()]);
    expect(running.size).toBe(0); // a stopped at once; b must wait for the expiry
    expect(b.isLeader()).toBe(false);

    now += LEASE_MS / 3 + 1; // past a's last expiry (renewed at 10 s, so 40 s)
    await b.beat();
    expect(running).toEqual(new Set(['b']));
    expect(overlaps).toEqual([]);

    aOffline = false;
    await a.beat();
    expect(a.isLeader()).toBe(false);
    expect(a.view()).toMatchObject({ held: false, holder: 'b' });
    await Promise.all([a.stop(), b.stop()]);
    expect(await book.holderOf('t5', new Date(now))).toBeNull();
  });

  it('takes a `once` lease only once per process', async () => {
    let now = at(0).getTime();
    let starts = 0;
    const lease = new Lease({ name: 't6', holder: 'a', book, leaseMs: LEASE_MS, logger, once: true, leads: { start: () => void starts++, stop: () => undefined }, now: () => now });
    await lease.beat();
    await book.release('t6', 'a');
    await book.take('t6', 'x', new Date(now), LEASE_MS); // someone else has it: a loses it on renewal
    now += LEASE_MS / 3;
    await lease.beat();
    expect(lease.isLeader()).toBe(false);
    now += 2 * LEASE_MS;
    await lease.beat();
    expect(starts).toBe(1);
    expect(lease.view().held).toBe(false);
    await lease.stop();
  });
});
