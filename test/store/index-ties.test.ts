/**
 * Index entries with equal keys (every finished job has status 'done' and runAt null): scans yield
 * them in the order they joined the key, as a hash lookup does, and removing one from a large group
 * takes exactly that one, through updates, removals, multikey arrays and unique indexes.
 */
import { BSON } from 'bson';
import type { Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { Collection } from '../../server/src/store/embedded/collection.ts';
import { findRecords } from '../../server/src/store/embedded/commands/read.ts';
import type { SortSpec } from '../../server/src/store/embedded/query.ts';

function jobs(n: number): Collection {
  const c = new Collection('ties', 'jobs');
  c.createIndex({ name: 'status_1', key: { status: 1 } });
  c.createIndex({ name: 'runAt_1', key: { runAt: 1 } });
  c.createIndex({ name: 'key_1', key: { key: 1 }, unique: true });
  for (let i = 0; i < n; i++) c.insert({ _id: i, key: `k${i}`, status: 'done', runAt: null });
  return c;
}

const idsOf = (c: Collection, filter: Document, sort?: SortSpec, limit?: number): unknown[] =>
  findRecords(c, { filter, sort, limit }).map((r) => r.doc._id);

/** The scan plans: ordered lists built before (eager) or only after (lazy) the writes under test. */
const ordered = (c: Collection) => ({
  range: idsOf(c, { status: { $gte: 'done', $lte: 'done' } }),
  sortedAsc: idsOf(c, { status: 'done' }, [['status', 1]]),
  walkDesc: idsOf(c, {}, [['runAt', -1]]),
  lookup: idsOf(c, { status: 'done' }),
});

describe('equal index keys', () => {
  it('scan in the order documents joined the key, like the hash lookup, and in reverse for a descending walk', () => {
    const c = jobs(600);
    // Ordered lists exist from here on (the first range read builds them).
    expect(c.plan({ status: { $gte: 'a' } }).kind).toBe('ixRange');
    for (const id of [5, 300, 599]) {
      const rec = c.getById(id)!;
      c.replace(rec, { ...rec.doc, status: 'running' });
    }
    for (const id of [300, 5]) {
      const rec = c.getById(id)!;
      c.replace(rec, { ...rec.doc, status: 'done' });
    }
    const rest = Array.from({ length: 600 }, (_, i) => i).filter((i) => i !== 5 && i !== 300 && i !== 599);
    const order = [...rest, 300, 5];
    const got = ordered(c);
    expect(got.range).toEqual(order);
    expect(got.lookup).toEqual(order);
    expect(got.sortedAsc).toEqual(order);
    expect(c.plan({}, [['runAt', -1]]).kind).toBe('ixSort');
    expect(got.walkDesc).toEqual(Array.from({ length: 600 }, (_, i) => 599 - i));
  });

  it('give the same order when the ordered list is first built after the writes', () => {
    const eager = jobs(300);
    void eager.plan({ status: { $gte: 'a' } }).candidates;
    for (const ix of eager.indexes) void ix.sorted;
    const lazy = jobs(300);
    for (const c of [eager, lazy]) {
      for (const id of [7, 150, 0]) {
        const rec = c.getById(id)!;
        c.replace(rec, { ...rec.doc, status: 'running', runAt: new Date(1_000 + id) });
        c.replace(rec, { ...rec.doc, status: 'done', runAt: null });
      }
      c.remove(c.getById(42)!);
    }
    expect(ordered(lazy)).toEqual(ordered(eager));
  });

  it('remove exactly the changed document from a group of thousands, wherever it sits', () => {
    const n = 5_000;
    const c = jobs(n);
    for (const ix of c.indexes) void ix.sorted;
    const moved = new Set<number>();
    for (let k = 0; k < 400; k++) {
      const id = (k * 7_919) % n;
      moved.add(id);
      const rec = c.getById(id)!;
      c.replace(rec, { ...rec.doc, status: 'pending', runAt: new Date(2_000 + id) });
    }
    const removed = [1, n - 1, 2_500].filter((id) => !moved.has(id));
    for (const id of removed) c.remove(c.getById(id)!);
    const done = Array.from({ length: n }, (_, i) => i).filter((i) => !moved.has(i) && !removed.includes(i));
    expect(idsOf(c, { status: { $gte: 'done', $lte: 'done' } })).toEqual(done);
    expect(idsOf(c, { runAt: { $type: 'null' } }, [['runAt', 1]])).toEqual(done);
    expect(idsOf(c, { status: { $gte: 'pending', $lte: 'pending' } }).map(Number).sort((a, b) => a - b)).toEqual([...moved].sort((a, b) => a - b));
    expect(idsOf(c, { runAt: { $gte: new Date(0) } }, [['runAt', 1]], 3)).toEqual([...moved].sort((a, b) => a - b).slice(0, 3));
    for (const ix of c.indexes) expect(ix.sorted.size).toBe(n - removed.length);
  });

  it('keep multikey entries per element: removing one document leaves the others under each shared element', () => {
    const c = new Collection('ties', 'contacts');
    c.createIndex({ name: 'tags_1', key: { tags: 1 } });
    for (let i = 0; i < 200; i++) c.insert({ _id: i, tags: i % 2 ? ['vip', 'new'] : ['vip'] });
    for (const ix of c.indexes) void ix.sorted;
    c.remove(c.getById(3)!);
    const rec = c.getById(4)!;
    c.replace(rec, { _id: 4, tags: ['new'] });
    const vip = idsOf(c, { tags: { $gte: 'vip', $lte: 'vip' } });
    expect(vip).toEqual(Array.from({ length: 200 }, (_, i) => i).filter((i) => i !== 3 && i !== 4));
    expect(idsOf(c, { tags: { $gte: 'new', $lte: 'new' } })).toEqual([...Array.from({ length: 100 }, (_, i) => 2 * i + 1).filter((i) => i !== 3), 4]);
    expect(c.indexes[1]!.sorted.size).toBe(199 + 99);
  });

  it('leave a unique index consistent: a freed key can be taken again and is found in order', () => {
    const c = jobs(50);
    for (const ix of c.indexes) void ix.sorted;
    c.remove(c.getById(10)!);
    c.insert({ _id: 'again', key: 'k10', status: 'done', runAt: null });
    expect(() => c.insert({ _id: 'dup', key: 'k10' })).toThrow(/E11000/);
    expect(idsOf(c, { key: { $gte: 'k10', $lte: 'k10' } })).toEqual(['again']);
    expect(c.indexes.find((ix) => ix.name === 'key_1')!.sorted.size).toBe(50);
  });

  it('key a compound index on top-level fields the same from the BSON and from the decoded document', () => {
    const c = new Collection('ties', 'enrolments');
    c.createIndex({ name: 'planId_1_status_1', key: { planId: 1, status: 1 } });
    c.createIndex({ name: 'a_1_b_1', key: { a: 1, b: 1 }, sparse: true });
    const docs = [{ _id: 1, planId: 'p', status: 'active' }, { _id: 2, planId: 'p' }, { _id: 3, planId: ['p', 'q'], status: 'active' }, { _id: 4, a: null }, { _id: 5 }];
    const recs = docs.map((d) => c.insertBson(Buffer.from(BSON.serialize(d))));
    const [compound, sparse] = [c.indexes[1]!, c.indexes[2]!];
    const keys = () => recs.map((r) => [compound.keysFor(r).map((k) => k.hash), sparse.keysFor(r).map((k) => k.hash)]);
    const fromBson = keys();
    for (const r of recs) void r.doc;
    expect(keys()).toEqual(fromBson);
    expect(fromBson[4]![1]).toEqual([]); // sparse: neither field present
    expect(fromBson[3]![1]).toHaveLength(1); // null counts as present
    expect(idsOf(c, { planId: 'p', status: 'active' }).sort()).toEqual([1, 3]);
    expect(idsOf(c, { planId: 'p', status: null })).toEqual([2]);
  });
});
