import { Schema, type Model } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/observability/index.ts';
import { QueueWorker, withWorkFields, type WorkFields, type WorkOutcome } from '../../server/src/queue/index.ts';
import { openTestStore } from '../support/db.ts';
import { eventually } from '../support/eventually.ts';

interface Item extends WorkFields {
  key: string;
}

let store: Awaited<ReturnType<typeof openTestStore>>;
let Items: Model<Item>;
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  store = await openTestStore();
  const schema = withWorkFields(new Schema<Item>({ key: { type: String, required: true, unique: true } }));
  Items = store.connection.model<Item>('BatchItem', schema);
  await Items.init();
});
afterAll(() => store.dispose());
beforeEach(() => Items.deleteMany({}));

describe('QueueWorker with batch claims', () => {
  it('prepares each won batch before its items run, and runs them when the preparation fails', async () => {
    const prepared = new Set<string>();
    const batches: number[] = [];
    const ranUnprepared: string[] = [];
    let fail = true;
    const worker = new QueueWorker<Item>({
      name: 'test',
      model: Items,
      logger,
      concurrency: 2,
      claimBatch: 5,
      pollMs: 20,
      prepare: async (items) => {
        batches.push(items.length);
        if (fail) {
          fail = false;
          throw new Error('store hiccup');
        }
        for (const item of items) prepared.add(item.key);
      },
      handle: async (item) => {
        if (!prepared.has(item.key)) ranUnprepared.push(item.key);
        // Returned fields are recorded with the completion, in the same write.
        return { key: `${item.key}-done` };
      },
    });
    await Items.insertMany(Array.from({ length: 12 }, (_, i) => ({ key: `p${i}` })));
    worker.start();
    await eventually(async () => ((await Items.countDocuments({ status: 'done' })) === 12 ? true : null), 'all done');
    await worker.stop();
    expect(batches.every((n) => n >= 1 && n <= 5)).toBe(true);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(12);
    // Only the batch whose preparation failed ran unprepared, and it still ran.
    expect(ranUnprepared).toHaveLength(batches[0]!);
    expect(await Items.countDocuments({ key: /-done$/ })).toBe(12);
  });

  it('takes again the jobs of a batch whose worker crashed, once the lease expires, and the crashed one records nothing', async () => {
    let clock = new Date('2026-01-01T00:00:00Z').getTime();
    const now = () => new Date(clock);
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const crashedOutcomes: WorkOutcome[] = [];
    const crashed = new QueueWorker<Item>({
      name: 'test',
      model: Items,
      logger,
      now,
      leaseMs: 10_000,
      concurrency: 1,
      claimBatch: 5,
      pollMs: 60_000,
      handle: () => stuck, // hangs like a process that died mid-batch
      onOutcome: (o) => crashedOutcomes.push(o),
    });
    await Items.insertMany(Array.from({ length: 5 }, (_, i) => ({ key: `c${i}`, runAt: now() })));
    crashed.start();
    await eventually(async () => ((await Items.countDocuments({ status: 'running' })) === 5 ? true : null), 'batch claimed');
    const owners = await Items.distinct('leaseOwner');
    expect(owners).toHaveLength(1);
    expect(owners).toEqual([crashed.owner]);

    const handled: string[] = [];
    const other = new QueueWorker<Item>({ name: 'test', model: Items, logger, now, handle: async (i) => void handled.push(i.key) });
    expect(await other.drain()).toBe(0); // still leased
    clock += 10_001;
    expect(await other.drain()).toBe(5);
    expect(handled.sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(await Items.countDocuments({ status: 'done', attempts: 2 })).toBe(5);

    // The stalled worker wakes up: its outcome is not recorded and the rest of its batch is not run.
    release();
    await crashed.stop();
    expect(crashedOutcomes).toEqual(['lost_lease']);
    expect(await Items.countDocuments({ status: 'done' })).toBe(5);
  });

  it('puts back the items it claimed but never started when stopped', async () => {
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const worker = new QueueWorker<Item>({ name: 'test', model: Items, logger, concurrency: 1, claimBatch: 4, pollMs: 60_000, handle: () => stuck });
    await Items.insertMany(Array.from({ length: 4 }, (_, i) => ({ key: `s${i}` })));
    worker.start();
    await eventually(async () => ((await Items.countDocuments({ status: 'running' })) === 4 ? true : null), 'batch claimed');
    const stopping = worker.stop();
    release();
    await stopping;
    expect(await Items.countDocuments({ status: 'done' })).toBe(1);
    expect(await Items.find({ status: 'pending' }).lean()).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ attempts: 0, leaseOwner: null, leaseUntil: null })),
    );
  });
});
