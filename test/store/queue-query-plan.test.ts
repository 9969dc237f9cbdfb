/**
 * The claim's due-work query on the embedded store's planner: however many items are planned for
 * later or finished, it is a range on runAt_1 that only visits the items due now.
 */
import { ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { Collection } from '../../server/src/store/embedded/collection.ts';
import { defaultIndexName } from '../../server/src/store/embedded/indexes.ts';

describe('due-work query plan', () => {
  it('visits only the due items: an index range on runAt, in runAt order', () => {
    const c = new Collection('planner', 'jobs');
    // The indexes withWorkFields declares.
    for (const key of [{ runAt: 1 }, { leaseUntil: 1 }, { status: 1 }]) c.createIndex({ name: defaultIndexName(key), key });
    const now = new Date('2026-06-01T10:00:00Z');
    const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
    for (let i = 0; i < 20_000; i++) c.insert({ _id: new ObjectId(), status: 'pending', runAt: at(1 + (i % 5_000)), leaseUntil: null });
    for (let i = 0; i < 20_000; i++) c.insert({ _id: new ObjectId(), status: 'done', runAt: null, leaseUntil: null });
    for (let i = 0; i < 7; i++) c.insert({ _id: new ObjectId(), status: 'pending', runAt: at(-i), leaseUntil: null });

    const due = c.plan({ runAt: { $lte: now } }, [['runAt', 1]]);
    expect(due).toMatchObject({ kind: 'ixRange', index: 'runAt_1', sorted: true });
    expect([...due.candidates]).toHaveLength(7);

    const expired = c.plan({ leaseUntil: { $lt: now } });
    expect(expired).toMatchObject({ kind: 'ixRange', index: 'leaseUntil_1' });
    expect([...expired.candidates]).toHaveLength(0);
  });
});
