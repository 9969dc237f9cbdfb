/**
 * Query planner: which index a filter/sort shape uses, and that every plan returns exactly what a
 * collection scan returns on the same data (each case runs on an indexed twin and a bare twin).
 */
import { BSON } from 'bson';
import type { Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { canonicalKey, sortKey } from '../../server/src/store/embedded/bson-order.ts';
import { Collection } from '../../server/src/store/embedded/collection.ts';
import { findRecords } from '../../server/src/store/embedded/commands/read.ts';
import type { FindOptions } from '../../server/src/store/embedded/commands/read.ts';
import { defaultIndexName } from '../../server/src/store/embedded/indexes.ts';
import type { IndexDefinition } from '../../server/src/store/embedded/persistence/contract.ts';
import type { SortSpec } from '../../server/src/store/embedded/query.ts';

type IndexSpec = Document | Omit<IndexDefinition, 'name'>;

const defOf = (spec: IndexSpec): IndexDefinition => {
  const d = ('key' in spec ? spec : { key: spec }) as Omit<IndexDefinition, 'name'>;
  return { name: defaultIndexName(d.key), ...d };
};

function collectionWith(docs: Document[], indexes: IndexSpec[]): Collection {
  const c = new Collection('planner', 'c');
  for (const spec of indexes) c.createIndex(defOf(spec));
  for (const d of docs) c.insert(d);
  return c;
}

const planOf = (c: Collection, filter: Document, sort?: SortSpec) => {
  const p = c.plan(filter, sort);
  return { kind: p.kind, index: p.index, sorted: p.sorted };
};

const findDocs = (c: Collection, o: FindOptions): Document[] => findRecords(c, o).map((r) => r.doc);
const ids = (docs: Document[]): string[] => docs.map((d) => canonicalKey(d._id)).sort();
const sortKeys = (docs: Document[], sort: SortSpec): string[] => docs.map((d) => sort.map(([f, dir]) => canonicalKey(sortKey(d[f], dir))).join('|'));

/**
 * Runs `o` against an indexed collection and a scan-only twin. Unsorted order and ties between equal
 * sort keys are unspecified, so a page must agree on its size and sequence of sort keys and hold only
 * documents of the full answer; an unpaged answer must hold the same documents.
 */
function expectSameAsScan(indexed: Collection, scan: Collection, o: FindOptions): Document[] {
  const got = findDocs(indexed, o);
  const want = findDocs(scan, o);
  expect(scan.plan(o.filter, o.sort).kind).toBe('collScan');
  expect(got.length).toBe(want.length);
  if (o.sort) expect(sortKeys(got, o.sort)).toEqual(sortKeys(want, o.sort));
  if (!o.skip && !o.limit) expect(ids(got)).toEqual(ids(want));
  else {
    const all = new Set(ids(findDocs(scan, { filter: o.filter })));
    for (const id of ids(got)) expect(all.has(id)).toBe(true);
  }
  return got;
}

function twins(docs: Document[], indexes: IndexSpec[]): { indexed: Collection; scan: Collection } {
  return { indexed: collectionWith(docs, indexes), scan: collectionWith(docs, []) };
}

const day = (n: number): Date => new Date(Date.UTC(2024, 0, 1) + n * 86_400_000);

/** Timeline-like rows with mixed types, nulls and missing fields on both indexed fields. */
function timeline(count: number): Document[] {
  const users: unknown[] = ['u1', 'u2', 'u3', null, undefined, 7, 'u10'];
  const ats = (i: number): unknown => {
    switch (i % 9) {
      case 0: return undefined;
      case 1: return null;
      case 2: return i;
      case 3: return `s${i % 13}`;
      default: return day(i % 41);
    }
  };
  const out: Document[] = [];
  for (let i = 0; i < count; i++) {
    const d: Document = { _id: i, kind: i % 4 === 0 ? 'note' : 'msg' };
    const u = users[i % users.length];
    const at = ats(i);
    if (u !== undefined) d.externalUserId = u;
    if (at !== undefined) d.at = at;
    out.push(d);
  }
  return out;
}

describe('plan choice', () => {
  const c = collectionWith(timeline(50), [
    { externalUserId: 1, at: -1 },
    { planId: 1 },
    { planId: 1, dueAt: -1 },
    { userId: 1, status: 1 },
    { at: 1 },
    { key: { email: 1 }, unique: true, sparse: true },
    { tenant: 1, email: 1 },
  ]);

  it('serves a contact timeline newest first from a compound prefix, in either direction', () => {
    expect(planOf(c, { externalUserId: 'u1' }, [['at', -1]])).toEqual({ kind: 'ixPrefix', index: 'externalUserId_1_at_-1', sorted: true });
    expect(planOf(c, { externalUserId: 'u1' }, [['at', 1]])).toEqual({ kind: 'ixPrefix', index: 'externalUserId_1_at_-1', sorted: true });
    expect(planOf(c, { externalUserId: 'u1' }, [['externalUserId', 1], ['at', -1]])).toMatchObject({ index: 'externalUserId_1_at_-1', sorted: true });
    expect(planOf(c, { externalUserId: 'u1' }, [['at', -1], ['kind', 1]])).toEqual({ kind: 'ixPrefix', index: 'externalUserId_1_at_-1', sorted: false });
    expect(planOf(c, { externalUserId: { $in: ['u1', 'u2'] } }, [['at', -1]])).toEqual({ kind: 'ixPrefix', index: 'externalUserId_1_at_-1', sorted: true });
  });

  it('takes prefix equality plus one range on the next field over a bare range', () => {
    expect(planOf(c, { externalUserId: 'u1', at: { $gte: day(3) } })).toEqual({ kind: 'ixPrefix', index: 'externalUserId_1_at_-1', sorted: false });
    expect(planOf(c, { at: { $gte: day(3) } })).toEqual({ kind: 'ixRange', index: 'at_1', sorted: false });
    expect(planOf(c, { at: { $gte: day(3) } }, [['at', -1]])).toEqual({ kind: 'ixRange', index: 'at_1', sorted: true });
  });

  it('prefers a full equality lookup unless another index also gives the sort', () => {
    expect(planOf(c, { planId: 'p', status: 'pending' })).toEqual({ kind: 'ixEq', index: 'planId_1', sorted: false });
    expect(planOf(c, { planId: 'p' }, [['dueAt', -1]])).toEqual({ kind: 'ixPrefix', index: 'planId_1_dueAt_-1', sorted: true });
    expect(planOf(c, { status: 'active', userId: 'u' })).toEqual({ kind: 'ixEq', index: 'userId_1_status_1', sorted: false });
    expect(planOf(c, { userId: 'u' })).toEqual({ kind: 'ixPrefix', index: 'userId_1_status_1', sorted: false });
    expect(planOf(c, { userId: 'u' }, [['status', 1]])).toEqual({ kind: 'ixPrefix', index: 'userId_1_status_1', sorted: true });
  });

  it('puts a unique point lookup before a longer prefix', () => {
    expect(planOf(c, { tenant: 't', email: 'e' })).toMatchObject({ kind: 'ixEq', index: 'email_1' });
    expect(planOf(c, { tenant: 't' })).toMatchObject({ kind: 'ixPrefix', index: 'tenant_1_email_1' });
  });

  it('keeps the single-field sort walk and the collection scan', () => {
    expect(planOf(c, { kind: 'msg' }, [['at', 1]])).toEqual({ kind: 'ixSort', index: 'at_1', sorted: true });
    expect(planOf(c, { kind: 'msg' })).toEqual({ kind: 'collScan', index: undefined, sorted: false });
    expect(planOf(c, { at: 'x', externalUserId: { $regex: 'u' } }).index).toBe('at_1');
  });

  it('never uses a partial index, and a sparse one only for non-null prefixes', () => {
    const s = collectionWith(timeline(20), [
      { key: { externalUserId: 1, at: 1 }, sparse: true },
      { key: { kind: 1 }, partialFilterExpression: { kind: 'msg' } },
    ]);
    expect(planOf(s, { externalUserId: 'u1' }).index).toBe('externalUserId_1_at_1');
    expect(planOf(s, { externalUserId: 'u1', at: { $gt: 3 } }).index).toBe('externalUserId_1_at_1');
    expect(planOf(s, { externalUserId: null }).kind).toBe('collScan');
    expect(planOf(s, { externalUserId: { $gte: 'u' } }).kind).toBe('collScan');
    expect(planOf(s, { kind: 'msg' }).kind).toBe('collScan');
  });

  it('does not claim index order on a multikey index', () => {
    const m = collectionWith([{ _id: 1, u: ['a', 'b'], at: 3 }, { _id: 2, u: 'a', at: [1, 5] }], [{ u: 1, at: -1 }]);
    expect(planOf(m, { u: 'a' }, [['at', -1]])).toEqual({ kind: 'ixPrefix', index: 'u_1_at_-1', sorted: false });
  });
});

describe('results equal a collection scan', () => {
  const docs = timeline(600);
  const asc = twins(docs, [{ externalUserId: 1, at: 1 }]);
  const desc = twins(docs, [{ externalUserId: -1, at: -1 }, { at: 1 }]);
  const mixed = twins(docs, [{ externalUserId: 1, at: -1 }]);
  const all = [asc, desc, mixed];

  const filters: Document[] = [
    { externalUserId: 'u1' },
    { externalUserId: 7 },
    { externalUserId: null },
    { externalUserId: 'nobody' },
    { externalUserId: { $in: ['u2', 7, null] } },
    { externalUserId: { $in: ['u2', 'u2'] } },
    { externalUserId: { $in: [] } },
    { externalUserId: 'u1', at: { $gte: day(5) } },
    { externalUserId: 'u1', at: { $gt: day(5), $lte: day(30) } },
    { externalUserId: 'u2', at: { $lt: day(10) } },
    { externalUserId: 'u3', at: { $gte: 10, $lt: 300 } },
    { externalUserId: 'u3', at: { $gt: 's3' } },
    { externalUserId: { $in: ['u1', 'u3'] }, at: { $gte: day(0), $lt: day(20) } },
    { externalUserId: 'u1', at: { $gte: null } },
    { externalUserId: 'u1', at: { $lte: null } },
    { externalUserId: 'u1', at: null },
    { externalUserId: 'u1', at: { $eq: day(4), $lt: day(2) } },
    { externalUserId: 'u1', kind: 'note' },
    { $and: [{ externalUserId: 'u2' }, { at: { $gte: day(2) } }] },
    { at: { $gte: day(3), $lt: day(9) } },
  ];
  const sorts: Array<SortSpec | undefined> = [undefined, [['at', -1]], [['at', 1]], [['externalUserId', 1], ['at', -1]], [['at', -1], ['kind', 1]]];

  it.each(filters.map((f) => [JSON.stringify(f), f] as const))('%s', (_label, filter) => {
    expect(all.some(({ indexed }) => indexed.plan(filter).kind !== 'collScan')).toBe(true);
    for (const { indexed, scan } of all) {
      for (const sort of sorts) {
        expectSameAsScan(indexed, scan, { filter, sort });
        expectSameAsScan(indexed, scan, { filter, sort, skip: 3, limit: 7 });
        expectSameAsScan(indexed, scan, { filter, sort, limit: 1 });
      }
    }
  });

  it('pages a timeline newest first with skip/limit, streaming from the index', () => {
    const { indexed, scan } = mixed;
    const full = expectSameAsScan(indexed, scan, { filter: { externalUserId: 'u2' }, sort: [['at', -1]] });
    expect(full.length).toBeGreaterThan(40);
    for (let skip = 0; skip < full.length + 5; skip += 20) {
      const page = expectSameAsScan(indexed, scan, { filter: { externalUserId: 'u2' }, sort: [['at', -1]], skip, limit: 20 });
      expect(sortKeys(page, [['at', -1]])).toEqual(sortKeys(full.slice(skip, skip + 20), [['at', -1]]));
    }
    // A sorted plan is consumed lazily: the page stops pulling candidates once it is full.
    let pulled = 0;
    const p = indexed.plan({ externalUserId: 'u2' }, [['at', -1]]);
    for (const _ of p.candidates) if (++pulled === 5) break;
    expect(pulled).toBe(5);
  });

  it('matches on multikey indexes, with array elements on either field and ranges on one side', () => {
    const rows: Document[] = [];
    for (let i = 0; i < 200; i++) {
      const d: Document = { _id: i };
      if (i % 5 === 0) d.u = ['a', 'b'];
      else if (i % 5 === 1) d.u = [];
      else if (i % 5 !== 2) d.u = i % 2 ? 'a' : 'b';
      d.at = i % 7 === 0 ? [i % 11, (i * 3) % 17] : i % 7 === 1 ? [] : i % 17;
      rows.push(d);
    }
    const { indexed, scan } = twins(rows, [{ u: 1, at: -1 }]);
    for (const filter of [
      { u: 'a' },
      { u: { $in: ['a', 'b'] } },
      { u: 'a', at: { $gt: 3, $lt: 6 } },
      { u: 'b', at: { $gte: 10 } },
      { u: 'a', at: 4 },
      { u: null },
    ]) {
      for (const sort of [undefined, [['at', -1]], [['at', 1]]] as Array<SortSpec | undefined>) {
        expectSameAsScan(indexed, scan, { filter, sort });
        expectSameAsScan(indexed, scan, { filter, sort, skip: 2, limit: 5 });
      }
    }
  });

  it('answers a plain equality lookup exactly, but re-checks extra conditions on the same field', () => {
    const { indexed, scan } = twins(timeline(100), [{ externalUserId: 1 }]);
    expect(indexed.plan({ externalUserId: 'u1' }).exact).toBe(true);
    expect(indexed.plan({ externalUserId: { $eq: 'u1', $ne: 'u1' } }).exact).toBe(false);
    expect(findDocs(indexed, { filter: { externalUserId: { $eq: 'u1', $ne: 'u1' } } })).toEqual([]);
    expectSameAsScan(indexed, scan, { filter: { externalUserId: { $in: ['u1', 'u2'], $gt: 'u1' } } });
  });

  it('stays correct as documents change under the index', () => {
    const { indexed, scan } = twins(timeline(200), [{ externalUserId: 1, at: -1 }]);
    // The same documents change in both twins: ids below 70 (match order differs between plans).
    for (const c of [indexed, scan]) {
      for (const rec of c.match({ externalUserId: 'u1', _id: { $lt: 70 } })) c.replace(rec, { ...rec.doc, externalUserId: 'u2', at: day(99) });
      for (const rec of c.match({ externalUserId: 'u3', _id: { $lt: 70 } })) c.remove(rec);
    }
    for (const filter of [{ externalUserId: 'u1' }, { externalUserId: 'u2' }, { externalUserId: 'u3', at: { $lt: day(20) } }]) {
      expectSameAsScan(indexed, scan, { filter, sort: [['at', -1]], limit: 20 });
    }
  });
});

describe('index keys of documents kept as BSON', () => {
  it('are the same before and after the document is decoded, even for a field named like an Object.prototype member', () => {
    const c = new Collection('db', 'protoname');
    c.createIndex({ name: 'constructor_1', key: { constructor: 1 } });
    const ix = c.indexes[1]!;
    const rec = c.insertBson(Buffer.from(BSON.serialize({ _id: 1, x: 1 })));
    expect(ix.sorted.size).toBe(1); // built now, so removal must find the entry it made
    expect(rec.doc).toEqual({ _id: 1, x: 1 }); // decoded from here on
    c.remove(rec);
    expect([...ix.lookup([null])]).toEqual([]);
    expect(ix.sorted.size).toBe(0);
  });
});
