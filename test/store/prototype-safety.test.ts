/**
 * Field names that are also names of JavaScript's object machinery (`__proto__`, `constructor`,
 * `prototype`) are data to MongoDB: mongod stores them like any other field. The embedded store
 * runs in this process, so a path walk that treated them as JavaScript would write into
 * `Object.prototype` and change every document of every collection. Each probe below goes through
 * one command; after each, nothing outside the documents may have changed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, Document } from 'mongodb';
import { MongoClient } from 'mongodb';
import { makeTempDir, openTarget, removeDir, startEmbedded, targetKind } from './target.ts';
import type { StoreTarget } from './target.ts';

let t: StoreTarget;
let seq = 0;

beforeAll(async () => {
  t = await openTarget('protosafety');
});

afterAll(async () => {
  await t?.close();
});

/** Object literals cannot carry a `__proto__` key (the literal sets the prototype instead): build from JSON. */
const doc = (json: string): Document => JSON.parse(json) as Document;

const NAMES = ['__proto__', 'constructor', 'prototype'];
const PATHS = [
  ...NAMES,
  ...NAMES.map((n) => `${n}.role`),
  '__proto__.__proto__.role',
  'constructor.prototype.role',
  'a.__proto__.role',
  'a.constructor.prototype.role',
  'arr.0.__proto__.role',
];

const protoNames = (): string[][] =>
  [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) => Object.getOwnPropertyNames(p).sort());
const baseline = protoNames();

function assertNothingOutsideChanged(): void {
  if (targetKind !== 'embedded') return; // a real mongod runs in another process
  expect(protoNames()).toEqual(baseline);
  const probe: Record<string, unknown> = {};
  expect(probe.role).toBeUndefined();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}

let sentinel: Collection;
beforeAll(async () => {
  sentinel = t.db.collection('sentinel');
  await sentinel.insertMany([{ _id: 's1' as never, name: 'a' }, { _id: 's2' as never, name: 'b' }]);
});

afterEach(async () => {
  assertNothingOutsideChanged();
  expect(await sentinel.countDocuments({ role: 'admin' })).toBe(0);
  expect(await sentinel.find({}, { sort: { _id: 1 } }).toArray()).toEqual([{ _id: 's1', name: 'a' }, { _id: 's2', name: 'b' }]);
  const agg = await sentinel.aggregate([{ $project: { name: 1 } }, { $sort: { _id: 1 } }]).toArray();
  expect(agg.map((d) => d.name)).toEqual(['a', 'b']);
});

async function fresh(seed: Document[] = [{ _id: 1, n: 1, a: { x: 1 }, arr: [{ y: 1 }] }]): Promise<Collection> {
  seq += 1;
  const c = t.db.collection(`probe_${seq}`);
  await c.insertMany(seed.map((d) => ({ ...d })));
  return c;
}

/** A command may refuse a path (mingo does for `__proto__` in queries), but never act on the prototype. */
async function tolerate(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
  }
}

describe('updates store the name as a field, as mongod does', () => {
  it('$set, $inc and $rename to a __proto__ path write a field named __proto__', async () => {
    const c = await fresh();
    await c.updateOne({ _id: 1 as never }, doc('{"$set": {"__proto__.role": "admin"}}'));
    await c.updateOne({ _id: 1 as never }, doc('{"$inc": {"__proto__.count": 2}}'));
    await c.updateOne({ _id: 1 as never }, doc('{"$rename": {"n": "__proto__.moved"}}'));
    const got = await c.findOne({ _id: 1 as never });
    expect(got && Object.hasOwn(got, '__proto__')).toBe(true);
    expect(JSON.stringify(got)).toBe('{"_id":1,"a":{"x":1},"arr":[{"y":1}],"__proto__":{"role":"admin","count":2,"moved":1}}');
    expect(await c.countDocuments({ role: 'admin' })).toBe(0);
  });

  it('a constructor.prototype path creates plain nested fields', async () => {
    const c = await fresh();
    await c.updateOne({ _id: 1 as never }, { $set: { 'constructor.prototype.role': 'admin' } });
    const got = await c.findOne({ _id: 1 as never }, { projection: { _id: 0, constructor: 1 } });
    expect(JSON.stringify(got)).toBe('{"constructor":{"prototype":{"role":"admin"}}}');
    expect(await c.countDocuments({ 'constructor.prototype.role': 'admin' })).toBe(1);
    expect(await c.countDocuments({ constructor: { $exists: true } })).toBe(1);
  });

  it('a document without such a field does not see inherited members as fields', async () => {
    const c = await fresh();
    expect(await c.countDocuments({ constructor: { $exists: true } })).toBe(0);
    expect(await c.countDocuments({ toString: { $exists: true } })).toBe(0);
    const sorted = await c.find({}, { sort: doc('{"constructor": 1}') }).toArray();
    expect(sorted).toHaveLength(1);
  });

  it('a whole-field $set of __proto__ and an insert with one keep the field', async () => {
    const c = await fresh();
    await c.updateOne({ _id: 1 as never }, doc('{"$set": {"__proto__": {"role": "admin"}}}'));
    await c.insertOne(doc('{"_id": 2, "__proto__": {"role": "admin"}}'));
    await c.replaceOne({ _id: 2 as never }, doc('{"__proto__": {"role": "root"}, "k": 1}'));
    const docs = await c.find({}, { sort: { _id: 1 } }).toArray();
    expect(docs.map((d) => JSON.stringify(d))).toEqual([
      '{"_id":1,"n":1,"a":{"x":1},"arr":[{"y":1}],"__proto__":{"role":"admin"}}',
      '{"_id":2,"__proto__":{"role":"root"},"k":1}',
    ]);
  });
});

describe('every command survives the names', () => {
  const ops = ['$set', '$setOnInsert', '$unset', '$inc', '$mul', '$min', '$max', '$currentDate', '$push', '$addToSet', '$pop', '$pull', '$pullAll'];
  const argFor = (op: string): unknown =>
    op === '$pullAll' ? [1] : op === '$currentDate' ? true : op === '$unset' ? '' : op === '$pop' ? 1 : op === '$pull' ? 1 : op === '$set' || op === '$setOnInsert' ? { role: 'admin' } : 1;

  for (const op of ops) {
    it(`${op} on each path`, async () => {
      const c = await fresh();
      for (const path of PATHS) {
        const spec: Document = {};
        Object.defineProperty(spec, path, { value: argFor(op), enumerable: true });
        const update: Document = {};
        update[op] = spec;
        await tolerate(() => c.updateOne({ _id: 1 as never }, update));
        await tolerate(() => c.updateOne({ _id: `up-${op}-${path}` as never }, update, { upsert: true }));
        assertNothingOutsideChanged();
      }
    });
  }

  it('$rename between the names', async () => {
    const c = await fresh();
    for (const to of PATHS.filter((p) => p.includes('.'))) {
      await tolerate(() => c.updateOne({ _id: 1 as never }, { $rename: { a: to } }));
      await tolerate(() => c.updateOne({ _id: 1 as never }, { $set: { a: { x: 1 } } }));
      assertNothingOutsideChanged();
    }
  });

  it('filters, projections, sorts, distinct and deletes', async () => {
    const c = await fresh([{ _id: 1, n: 1 }, doc('{"_id": 2, "__proto__": {"role": "admin"}, "constructor": {"prototype": 1}}')]);
    for (const path of PATHS) {
      const filter: Document = {};
      Object.defineProperty(filter, path, { value: 'admin', enumerable: true });
      const proj: Document = {};
      Object.defineProperty(proj, path, { value: 1, enumerable: true });
      const sort: Document = {};
      Object.defineProperty(sort, path, { value: -1, enumerable: true });
      await tolerate(() => c.find(filter).toArray());
      await tolerate(() => c.find({ [path]: { $exists: true } }).toArray());
      await tolerate(() => c.find({}, { projection: proj }).toArray());
      await tolerate(() => c.find({}, { sort }).toArray());
      await tolerate(() => c.distinct(path));
      await tolerate(() => c.findOneAndUpdate(filter, { $set: { touched: 1 } }));
      await tolerate(() => c.deleteMany(filter));
      assertNothingOutsideChanged();
    }
    // Only `__proto__.role: 'admin'` matches (document 2), as on mongod.
    expect(await c.find({}).map((d) => d._id).toArray()).toEqual([1]);
  });

  it('queries on such fields answer as mongod does', async () => {
    const c = await fresh([{ _id: 1, n: 1 }, doc('{"_id": 2, "__proto__": {"role": "admin"}, "constructor": {"prototype": 1}}')]);
    const count = (json: string): Promise<number> => c.countDocuments(doc(json));
    expect(await count('{"__proto__": "admin"}')).toBe(0);
    expect(await count('{"__proto__": {"$exists": true}}')).toBe(1);
    expect(await count('{"__proto__.role": "admin"}')).toBe(1);
    expect(await count('{"__proto__": {"role": "admin"}}')).toBe(1);
    expect(await count('{"constructor.prototype": 1}')).toBe(1);
    expect(await count('{"constructor": {"$exists": false}}')).toBe(1);
    expect(await count('{"$expr": {"$eq": ["$__proto__.role", "admin"]}}')).toBe(1);
    expect(await count('{"note": "$__proto__.role"}')).toBe(0);
    expect((await c.deleteMany(doc('{"__proto__": "admin"}'))).deletedCount).toBe(0);
    expect(await c.distinct('__proto__.role')).toEqual(['admin']);
    const projected = await c.find(doc('{"_id": 2}'), { projection: doc('{"__proto__.role": 1, "_id": 0}') }).toArray();
    expect(JSON.stringify(projected)).toBe('[{"__proto__":{"role":"admin"}}]');
    const agg = await c.aggregate([{ $match: { _id: 2 } }, { $addFields: { r: '$__proto__.role' } }, { $project: { constructor: 0 } }]).toArray();
    expect(JSON.stringify(agg)).toBe('[{"_id":2,"__proto__":{"role":"admin"},"r":"admin"}]');
    const grouped = await c.aggregate([doc('{"$group": {"_id": "$__proto__.role", "n": {"$sum": 1}}}'), { $sort: { _id: 1 } }]).toArray();
    expect(grouped).toEqual([{ _id: null, n: 1 }, { _id: 'admin', n: 1 }]);
  });

  it('aggregation stages and expressions that build objects', async () => {
    const c = await fresh([doc('{"_id": 1, "__proto__": {"role": "admin"}, "k": "__proto__", "v": {"role": "admin"}}')]);
    const pipelines: Document[][] = [
      [{ $project: { k: 1 } }],
      [doc('{"$project": {"__proto__": 1}}')],
      [{ $addFields: { out: { $arrayToObject: [[['__proto__', { role: 'admin' }]]] } } }],
      [{ $addFields: { out: { $arrayToObject: [[{ k: '$k', v: '$v' }]] } } }],
      [{ $replaceRoot: { newRoot: { $arrayToObject: [[['__proto__', { role: 'admin' }]]] } } }],
      [{ $addFields: { out: { $mergeObjects: ['$$ROOT', { a: 1 }] } } }],
      [{ $addFields: { out: { $setField: { field: '__proto__', input: {}, value: { role: 'admin' } } } } }],
      [{ $group: { _id: '$k', n: { $sum: 1 } } }],
      [doc('{"$group": {"_id": null, "__proto__": {"$first": "$v"}}}')],
      [{ $addFields: { 'x.__proto__.role': 'admin' } }],
      [{ $set: { 'constructor.prototype.role': 'admin' } }],
      [{ $sort: { '__proto__.role': 1 } }],
      [{ $unwind: '$__proto__' }],
      [{ $project: { r: '$__proto__.role' } }],
    ];
    for (const p of pipelines) {
      await tolerate(() => c.aggregate(p).toArray());
      assertNothingOutsideChanged();
    }
    await tolerate(() => c.updateOne({ _id: 1 as never }, [{ $set: { 'constructor.prototype.role': 'admin' } }]));
    assertNothingOutsideChanged();
  });

  it('index keys named after the prototype', async () => {
    const c = await fresh([doc('{"_id": 1, "__proto__": 5}'), { _id: 2, constructor: 6 }]);
    await tolerate(() => c.createIndex(doc('{"__proto__": 1}')));
    await tolerate(() => c.createIndex({ constructor: 1 }, { unique: true }));
    await tolerate(() => c.createIndex({ 'prototype.role': 1 }));
    await tolerate(() => c.insertOne({ _id: 3 as never, constructor: 6 }));
    expect(await c.countDocuments({ constructor: 6 })).toBe(1);
    expect(await c.countDocuments({})).toBe(2);
  });
});

describe.runIf(targetKind === 'embedded')('the journal replays the names as fields', () => {
  it('documents with __proto__ and constructor fields come back after a restart, and nothing else changes', async () => {
    const dir = await makeTempDir('protosafety');
    try {
      for (const round of [0, 1]) {
        const server = await startEmbedded({ dbPath: dir });
        const client = new MongoClient(server.uri);
        try {
          const c = client.db('p').collection('j');
          if (round === 0) {
            await c.insertOne(doc('{"_id": 1, "__proto__": {"role": "admin"}}'));
            await c.updateOne({ _id: 1 as never }, doc('{"$set": {"constructor.prototype.role": "admin", "__proto__.more": 1}}'));
            await c.createIndex(doc('{"__proto__.role": 1}'));
          }
          const got = await c.findOne({ _id: 1 as never });
          expect(JSON.stringify(got)).toBe('{"_id":1,"__proto__":{"role":"admin","more":1},"constructor":{"prototype":{"role":"admin"}}}');
          expect(await c.countDocuments({ role: 'admin' })).toBe(0);
        } finally {
          await client.close();
          await server.close();
        }
        assertNothingOutsideChanged();
      }
    } finally {
      await removeDir(dir);
    }
  });
});
