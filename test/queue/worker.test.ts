import { Schema, type Model } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../server/src/observability/index.ts';
import {
  PermanentFailure,
  QueueWorker,
  withWorkFields,
  type WorkFields,
  type WorkOutcome,
} from '../../server/src/queue/index.ts';
import { openTestStore } from '../support/db.ts';
import { eventually } from '../support/eventually.ts';

interface Item extends WorkFields {
  key: string;
  payload: string;
}

let store: Awaited<ReturnType<typeof openTestStore>>;
let Items: Model<Item>;
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  store = await openTestStore();
  const schema = withWorkFields(new Schema<Item>({ key: { type: String, required: true, unique: true }, payload: String }));
  Items = store.connection.model<Item>('QueueItem', schema);
  await Items.init();
});
afterAll(() => store.dispose());
beforeEach(() => Items.deleteMany({}));

describe('QueueWorker', () => {
  it('runs a new item as soon as it is kicked and marks it done', async () => {
    const handled: string[] = [];
    const worker = new QueueWorker<Item>({
      name: 'test',
      model: Items,
      logger,
      pollMs: 60_000, // only the kick can wake it in time
      handle: async (item) => void handled.push(item.key),
    });
    worker.start();
    await Items.create({ key: 'a', payload: 'x' });
    worker.kick();
    const done = await eventually(async () => Items.findOne({ key: 'a', status: 'done' }).lean(), 'item a done');
    await worker.stop();
    expect(handled).toEqual(['a']);
    expect(done).toMatchObject({ attempts: 1, lastError: null });
    expect(done.finishedAt).toBeInstanceOf(Date);
  });

  it('retries with backoff, then dead-letters with the last error', async () => {
    let clock = new Date('2026-01-01T00:00:00Z').getTime();
    const outcomes: WorkOutcome[] = [];
    const worker = new QueueWorker<Item>({
      name: 'test',
      model: Items,
      logger,
      maxAttempts: 3,
      backoffMs: (n) => n * 1_000,
      now: () => new Date(clock),
      handle: async () => {
        throw new Error('WeCom busy (-1)');
      },
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    await Items.create({ key: 'b', runAt: new Date(clock) });

    expect(await worker.drain()).toBe(1);
    const afterFirst = await Items.findOne({ key: 'b' }).lean();
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, lastError: 'WeCom busy (-1)' });
    expect(afterFirst!.runAt?.getTime()).toBe(clock + 1_000);

    expect(await worker.drain()).toBe(0); // not due yet
    clock += 1_000;
    expect(await worker.drain()).toBe(1);
    clock += 2_000;
    expect(await worker.drain()).toBe(1);
    expect(await Items.findOne({ key: 'b' }).lean()).toMatchObject({ status: 'dead', attempts: 3 });
    expect(outcomes).toEqual(['retry', 'retry', 'dead']);
  });

  it('dead-letters a permanent failure at once', async () => {
    const worker = new QueueWorker<Item>({
      name: 'test',
      model: Items,
      logger,
      handle: async () => {
        throw new PermanentFailure('welcome code expired (41050)');
      },
    });
    await Items.create({ key: 'c' });
    await worker.drain();
    expect(await Items.findOne({ key: 'c' }).lean()).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastError: 'welcome code expired (41050)',
    });
  });

  // One-by-one claims and batch claims (test/queue/claim-batch.test.ts covers the rest of batching) share this race.
  it.each([
    { claims: 'one at a time', concurrency: 3, claimBatch: undefined, count: 60 },
    // 7 is not a multiple of the loops, so batches and loops interleave unevenly.
    { claims: 'in batches', concurrency: 4, claimBatch: 7, count: 300 },
  ])('lets two workers claiming $claims share one collection without running any item twice', async ({ concurrency, claimBatch, count }) => {
    const runs = new Map<string, number>();
    const make = () =>
      new QueueWorker<Item>({
        name: 'test',
        model: Items,
        logger,
        concurrency,
        ...(claimBatch === undefined ? {} : { claimBatch }),
        pollMs: 20,
        handle: async (item) => {
          runs.set(item.key, (runs.get(item.key) ?? 0) + 1);
          await new Promise((resolve) => setImmediate(resolve));
        },
      });
    const [a, b] = [make(), make()];
    await Items.insertMany(Array.from({ length: count }, (_, i) => ({ key: `k${i}` })));
    a.start();
    b.start();
    await eventually(async () => ((await Items.countDocuments({ status: 'done' })) === count ? true : null), 'all done');
    await Promise.all([a.stop(), b.stop()]);
    expect(runs.size).toBe(count);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(await Items.countDocuments({ attempts: 1 })).toBe(count);
  });

  it('reclaims an item whose worker died mid-run once its lease expires', async () => {
    const now = new Date();
    await Items.create({
      key: 'orphan',
      status: 'running',
      runAt: null,
      attempts: 1,
      leaseOwner: 'dead-worker',
      leaseUntil: new Date(now.getTime() - 1),
    });
    await Items.create({
      key: 'still-leased',
      status: 'running',
      runAt: null,
      attempts: 1,
      leaseOwner: 'live-worker',
      leaseUntil: new Date(now.getTime() + 60_000),
    });
    const handled: string[] = [];
    const worker = new QueueWorker<Item>({ name: 'test', model: Items, logger, handle: async (i) => void handled.push(i.key) });
    await worker.drain();
    expect(handled).toEqual(['orphan']);
    expect(await Items.findOne({ key: 'orphan' }).lean()).toMatchObject({ status: 'done', attempts: 2 });
    expect(await Items.findOne({ key: 'still-leased' }).lean()).toMatchObject({ status: 'running', leaseOwner: 'live-worker' });
  });

  it('does not record an outcome for an item whose lease was taken over', async () => {
    const outcomes: WorkOutcome[] = [];
    const worker = new QueueWorker<Item>({
      name: 'test',
      model: Items,
      logger,
      handle: async (item) => {
        // Another instance reclaimed the item while this one stalled.
        await Items.updateOne({ _id: item._id }, { $set: { leaseOwner: 'other' } });
      },
      onOutcome: (o) => outcomes.push(o),
    });
    await Items.create({ key: 'stalled' });
    await worker.drain();
    expect(outcomes).toEqual(['lost_lease']);
    expect(await Items.findOne({ key: 'stalled' }).lean()).toMatchObject({ status: 'running', leaseOwner: 'other' });
  });

  it('records items finishing together in one write, and still tells a lost lease among them', async () => {
    const outcomes: Array<[string, WorkOutcome]> = [];
    let release!: () => void;
    const together = new Promise<void>((r) => (release = r));
    const started: string[] = [];
    const worker = new QueueWorker<Item>({
      name: 'test',
      model: Items,
      logger,
      concurrency: 8,
      claimBatch: 8,
      pollMs: 60_000,
      handle: async (item) => {
        // Another instance reclaims this one while it runs.
        if (item.key === 'i7') await Items.updateOne({ _id: item._id }, { $set: { leaseOwner: 'other' } });
        started.push(item.key);
        if (started.length === 8) release();
        await together;
      },
      onOutcome: (o, item) => outcomes.push([item.key, o]),
    });
    await Items.insertMany(Array.from({ length: 8 }, (_, i) => ({ key: `i${i}` })));
    const writes = vi.spyOn(Items, 'bulkWrite');
    worker.start();
    worker.kick();
    await eventually(async () => outcomes.length === 8 || null, 'eight outcomes');
    await worker.stop();
    // The first outcome goes alone; the seven finishing while it is in flight share one write, which
    // only counts its matches: the lost lease among them is told by the check that follows.
    expect(writes.mock.calls.map(([ops]) => ops.length)).toEqual([1, 7]);
    writes.mockRestore();
    expect(Object.fromEntries(outcomes)).toEqual({ i0: 'done', i1: 'done', i2: 'done', i3: 'done', i4: 'done', i5: 'done', i6: 'done', i7: 'lost_lease' });
    expect(await Items.countDocuments({ status: 'done' })).toBe(7);
    expect(await Items.findOne({ key: 'i7' }).lean()).toMatchObject({ status: 'running', leaseOwner: 'other' });
  });

  it('keeps operator filters internal: user-supplied objects cannot inject operators', async () => {
    await Items.create({ key: 'secret', payload: 'p' });
    const injected = { $ne: 'nothing' } as unknown as string;
    // Without sanitizeFilter this would match 'secret'; with it the object is compared as a value.
    await expect(Items.findOne({ key: injected }).lean()).rejects.toThrow(/Cast to string failed/);
  });
});
