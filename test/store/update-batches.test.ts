import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import mongoose, { Schema, type Model } from 'mongoose';
import { UpdateBatches } from '../../server/src/store/index.ts';
import { openTestStore } from '../support/db.ts';

interface Ledger {
  key: string;
  state: string;
  slot?: string | null;
}

let store: Awaited<ReturnType<typeof openTestStore>>;
let Ledger: Model<Ledger>;

beforeAll(async () => {
  store = await openTestStore();
  const schema = new Schema<Ledger>({ key: { type: String, unique: true }, state: String, slot: { type: String, default: null } }, { timestamps: true });
  schema.index({ slot: 1 }, { unique: true, partialFilterExpression: { slot: { $type: 'string' } } });
  Ledger = store.connection.model<Ledger>('UpdateBatchLedger', schema, 'update_batch_ledger');
  await Ledger.init();
});

afterAll(async () => {
  await store.dispose();
});

describe('UpdateBatches', () => {
  it('sends one update alone at once, and updates that come while one is in flight together', async () => {
    await Ledger.insertMany(Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, state: 'sending' })));
    await Ledger.collection.updateOne({ key: 'k7' }, { $set: { updatedAt: new Date('2020-01-01') } });
    const batches = new UpdateBatches(Ledger);
    // Watched, not replaced: each call is one command to the store.
    const bulkWrites = vi.spyOn(Ledger, 'bulkWrite');
    await batches.updateOne({ key: 'k0' }, { $set: { state: 'sent' } });
    expect(bulkWrites).toHaveBeenCalledTimes(1);

    bulkWrites.mockClear();
    await Promise.all(Array.from({ length: 49 }, (_, i) => batches.updateOne({ key: `k${i + 1}` }, { $set: { state: 'sent' } })));
    // The first goes alone; the 48 queued behind it share the second command.
    expect(bulkWrites).toHaveBeenCalledTimes(2);
    expect(bulkWrites.mock.calls[1]![0]).toHaveLength(48);
    bulkWrites.mockRestore();
    expect(await Ledger.countDocuments({ state: 'sent' })).toBe(50);
    // Through the model: timestamps as Model.updateOne sets them.
    const one = await Ledger.findOne({ key: 'k7' }).lean<{ updatedAt: Date }>();
    expect(one!.updatedAt.getFullYear()).toBeGreaterThan(2020);
  });

  it('upserts when asked', async () => {
    const batches = new UpdateBatches(Ledger);
    await Promise.all([
      batches.updateOne({ key: 'new-1' }, { $setOnInsert: { state: 'pending' } }, { upsert: true }),
      batches.updateOne({ key: 'new-2' }, { $setOnInsert: { state: 'pending' } }, { upsert: true }),
    ]);
    expect(await Ledger.countDocuments({ key: mongoose.trusted({ $in: ['new-1', 'new-2'] }), state: 'pending' })).toBe(2);
  });

  it("rejects only the update that failed, with its own error, and applies the others of its batch", async () => {
    await Ledger.insertMany([{ key: 'a', state: 's', slot: 'taken' }, { key: 'b', state: 's' }, { key: 'c', state: 's' }]);
    const batches = new UpdateBatches(Ledger);
    const first = batches.updateOne({ key: 'b' }, { $set: { state: 'first' } });
    const results = await Promise.allSettled([
      batches.updateOne({ key: 'b' }, { $set: { slot: 'taken' } }),
      batches.updateOne({ key: 'c' }, { $set: { state: 'sent' } }),
    ]);
    await first;
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: 11000 } });
    expect(results[1]).toMatchObject({ status: 'fulfilled' });
    expect(await Ledger.findOne({ key: 'c' }).lean()).toMatchObject({ state: 'sent' });
    expect(await Ledger.findOne({ key: 'b' }).lean()).toMatchObject({ state: 'first', slot: null });
  });

  it('says whether an update matched when its batch tells, and null when only some of a batch did', async () => {
    await Ledger.insertMany([{ key: 'm1', state: 's' }, { key: 'm2', state: 's' }]);
    const batches = new UpdateBatches(Ledger);
    expect(await batches.updateOne({ key: 'm1' }, { $set: { state: 't' } })).toBe(true);
    expect(await batches.updateOne({ key: 'absent' }, { $set: { state: 't' } })).toBe(false);
    const first = batches.updateOne({ key: 'm1' }, { $set: { state: 'u' } });
    const [some, none] = await Promise.all([
      batches.updateOne({ key: 'm2' }, { $set: { state: 'u' } }),
      batches.updateOne({ key: 'absent' }, { $set: { state: 'u' } }),
    ]);
    expect(await first).toBe(true);
    expect([some, none]).toEqual([null, null]);
  });
});
