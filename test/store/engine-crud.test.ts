import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Binary, Decimal128, Double, Int32, Long, ObjectId, UUID } from 'bson';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedMongo } from '../../server/src/store/embedded/index.ts';
import type { EmbeddedMongo } from '../../server/src/store/embedded/index.ts';

let mongo: EmbeddedMongo;
let client: MongoClient;
let typed: MongoClient;
let db: Db;

beforeAll(async () => {
  mongo = await startEmbeddedMongo();
  client = await MongoClient.connect(`${mongo.uri}/crud`);
  // promoteValues:false lets type tests see the exact BSON types the server returns.
  typed = await MongoClient.connect(`${mongo.uri}/crud`, { promoteValues: false });
  db = client.db('crud');
});

afterAll(async () => {
  await typed?.close();
  await client?.close();
  await mongo?.close();
});

describe('unique indexes', () => {
  it('enforces unique keys with mongod-shaped errors and ordered/unordered batches', async () => {
    const c = db.collection('uniq');
    await c.createIndex({ name: 1 }, { unique: true });
    // A raw command shows the reply as sent (the driver's WriteError drops keyPattern/keyValue).
    const reply = await db.command({ insert: 'uniq', documents: [{ name: 'a' }, { name: 'b' }, { name: 'a' }, { name: 'c' }] });
    expect(reply).toMatchObject({ ok: 1, n: 2 });
    expect(reply.writeErrors).toHaveLength(1);
    expect(reply.writeErrors[0]).toMatchObject({ index: 2, code: 11000, errmsg: 'E11000 duplicate key error collection: crud.uniq index: name_1 dup key: { name: "a" }', keyPattern: { name: 1 }, keyValue: { name: 'a' } });
    expect(await c.countDocuments()).toBe(2);
    await c.insertMany([{ name: 'a' }, { name: 'd' }, { name: 'b' }, { name: 'e' }], { ordered: false }).catch(() => undefined);
    expect((await c.find({}, { projection: { _id: 0 } }).sort({ name: 1 }).toArray()).map((d) => d.name)).toEqual(['a', 'b', 'd', 'e']);
  });

  it('treats 1, 1.0 and Long(1) as equal keys, and null like missing', async () => {
    const c = db.collection('numkeys');
    await c.createIndex({ k: 1 }, { unique: true });
    await c.insertOne({ k: 1 });
    await expect(c.insertOne({ k: new Double(1) })).rejects.toMatchObject({ code: 11000 });
    await expect(c.insertOne({ k: Long.fromNumber(1) })).rejects.toMatchObject({ code: 11000 });
    await c.insertOne({ other: true });
    await expect(c.insertOne({ k: null })).rejects.toMatchObject({ code: 11000 });
  });

  it('supports compound, sparse, partial and multikey unique indexes', async () => {
    const c = db.collection('shapes');
    await c.createIndex({ a: 1, b: 1 }, { unique: true });
    await c.createIndex({ s: 1 }, { unique: true, sparse: true });
    await c.createIndex({ p: 1 }, { unique: true, partialFilterExpression: { active: true } });
    await c.createIndex({ tags: 1 }, { unique: true });
    await c.insertMany([{ a: 1, b: 1, tags: ['x', 'y'] }, { a: 1, b: 2, tags: ['z'] }]);
    await expect(c.insertOne({ a: 1, b: 1, tags: ['q'] })).rejects.toMatchObject({ code: 11000 });
    await expect(c.insertOne({ a: 2, b: 1, tags: ['y'] })).rejects.toMatchObject({ code: 11000 });
    await c.insertMany([{ a: 3, p: 'k', active: false, tags: ['m'] }, { a: 4, p: 'k', active: true, tags: ['n'] }]);
    await expect(c.insertOne({ a: 5, p: 'k', active: true, tags: ['o'] })).rejects.toMatchObject({ code: 11000 });
  });

  it('leaves a document unchanged when an update would duplicate a key, and rejects a bad index build', async () => {
    const c = db.collection('updup');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertMany([{ _id: 1 as never, email: 'a@x' }, { _id: 2 as never, email: 'b@x', n: 1 }]);
    await expect(c.updateOne({ _id: 2 as never }, { $set: { email: 'a@x', n: 2 } })).rejects.toMatchObject({ code: 11000 });
    expect(await c.findOne({ _id: 2 as never })).toMatchObject({ email: 'b@x', n: 1 });
    const fam = await db.command({ findAndModify: 'updup', query: { _id: 2 }, update: { $set: { email: 'a@x' } } }).catch((e: unknown) => e);
    expect(fam).toMatchObject({ code: 11000, codeName: 'DuplicateKey', keyPattern: { email: 1 }, keyValue: { email: 'a@x' } });
    const d = db.collection('dupes');
    await d.insertMany([{ dupe: 1 }, { dupe: 1 }]);
    await expect(d.createIndex({ dupe: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 });
  });
});

describe('updates', () => {
  it('applies operators, upserts with filter equality fields, arrayFilters and positional $', async () => {
    const c = db.collection('upd');
    const r = await c.updateOne({ 'profile.email': 'u@x', kind: { $eq: 'lead' } }, { $set: { n: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(r.upsertedCount).toBe(1);
    expect(await c.findOne({ _id: r.upsertedId! }, { projection: { _id: 0 } })).toEqual({ profile: { email: 'u@x' }, kind: 'lead', n: 1, created: true });
    await c.insertOne({ _id: 'g' as never, grades: [80, 95, 70], items: [{ k: 'a', q: 1 }, { k: 'b', q: 2 }] });
    await c.updateOne({ _id: 'g' as never }, { $set: { 'grades.$[hi]': 100 } }, { arrayFilters: [{ hi: { $gte: 90 } }] });
    await c.updateOne({ _id: 'g' as never, 'items.k': 'b' }, { $inc: { 'items.$.q': 5 } });
    await c.updateOne({ _id: 'g' as never }, { $push: { grades: { $each: [1, 2], $slice: -4 } }, $addToSet: { tags: 'x' } } as never);
    const g = await c.findOne({ _id: 'g' as never });
    expect(g?.grades).toEqual([100, 70, 1, 2]);
    expect(g?.items).toEqual([{ k: 'a', q: 1 }, { k: 'b', q: 7 }]);
    await expect(c.updateOne({ _id: 'g' as never }, [{ $set: { viaPipeline: true } }])).resolves.toMatchObject({ modifiedCount: 1 });
  });

  it('reports conflicting paths, _id changes and $inc on strings with mongod codes', async () => {
    const c = db.collection('upderr');
    await c.insertOne({ _id: 1 as never, s: 'x', a: { b: 1 } });
    await expect(c.updateOne({ _id: 1 as never }, { $set: { a: 1 }, $inc: { 'a.b': 1 } })).rejects.toMatchObject({ code: 40 });
    await expect(c.updateOne({ _id: 1 as never }, { $set: { _id: 2 } })).rejects.toMatchObject({ code: 66 });
    await expect(c.updateOne({ _id: 1 as never }, { $inc: { s: 1 } })).rejects.toMatchObject({ code: 14 });
    await expect(c.updateOne({ _id: 1 as never }, { $frob: { s: 1 } } as never)).rejects.toThrow(/\$frob/);
  });

  it('findAndModify returns lastErrorObject and the requested image', async () => {
    const c = db.collection('fam');
    const up = await db.command({ findAndModify: 'fam', query: { k: 'x' }, update: { $inc: { n: 1 } }, upsert: true, new: true });
    expect(up.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false });
    expect(up.value).toMatchObject({ k: 'x', n: 1 });
    const before = await db.command({ findAndModify: 'fam', query: { k: 'x' }, update: { $inc: { n: 1 } }, fields: { _id: 0 } });
    expect(before).toMatchObject({ lastErrorObject: { n: 1, updatedExisting: true }, value: { k: 'x', n: 1 } });
    const removed = await db.command({ findAndModify: 'fam', query: {}, remove: true });
    expect(removed.value).toMatchObject({ n: 2 });
    expect(await c.countDocuments()).toBe(0);
  });
});

describe('reads', () => {
  it('finds with sort, skip, limit, projection, batches and getMore', async () => {
    const c = db.collection('reads');
    await c.createIndex({ n: 1 });
    await c.insertMany(Array.from({ length: 250 }, (_, i) => ({ n: i, odd: i % 2 === 1, sub: { x: i } })));
    const page = await c.find({ n: { $gte: 100, $lt: 200 }, odd: true }).sort({ n: -1 }).skip(5).limit(3).project({ _id: 0, 'sub.x': 1 }).toArray();
    expect(page).toEqual([{ sub: { x: 189 } }, { sub: { x: 187 } }, { sub: { x: 185 } }]);
    const all = await c.find({}, { batchSize: 7 }).toArray();
    expect(all).toHaveLength(250);
    expect(await c.countDocuments({ odd: true })).toBe(125);
    expect(await c.estimatedDocumentCount()).toBe(250);
    expect((await c.distinct('odd')).length).toBe(2);
    const agg = await c.aggregate([{ $match: { n: { $lt: 10 } } }, { $group: { _id: '$odd', total: { $sum: '$n' } } }, { $sort: { _id: 1 } }]).toArray();
    expect(agg.map((d) => Number(d.total))).toEqual([20, 25]);
    const byIn = await c.find({ n: { $in: [3, 4, 1000] } }).toArray();
    expect(byIn).toHaveLength(2);
  });

  it('lists collections and indexes, drops indexes, collections and databases', async () => {
    const d = client.db('catalog');
    await d.createCollection('one');
    await expect(d.createCollection('one')).rejects.toMatchObject({ code: 48 });
    await d.collection('one').createIndexes([{ key: { a: 1 } }, { key: { b: -1 }, name: 'bee' }]);
    expect((await d.collection('one').listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'a_1', 'bee']);
    await d.collection('one').dropIndex('bee');
    await d.collection('one').dropIndexes();
    expect((await d.collection('one').listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
    expect((await d.listCollections({ name: 'one' }, { nameOnly: true }).toArray()).map((x) => x.name)).toEqual(['one']);
    await expect(d.command({ drop: 'missing' })).rejects.toMatchObject({ code: 26 });
    expect(await d.collection('missing').drop().catch(() => false)).toBe(false);
    await d.dropDatabase();
    expect(await d.listCollections().toArray()).toEqual([]);
  });
});

describe('type fidelity', () => {
  it('round-trips BSON types exactly and queries by $type', async () => {
    const c = typed.db('crud').collection('types');
    const doc = {
      _id: new ObjectId(),
      i: new Int32(1),
      d: new Double(1),
      d2: new Double(2.5),
      l: Long.fromString('9007199254740993'),
      dec: Decimal128.fromString('1.10'),
      date: new Date(1700000000000),
      bin: new Binary(Buffer.from('hi'), 0),
      uuid: new UUID('0f8fad5b-d9cb-469f-a165-70867728950e').toBinary(),
      re: /ab+c/i,
      nul: null,
      nested: { arr: [new Int32(1), new Double(1)] },
    };
    await c.insertOne(doc);
    const back = await c.findOne({ _id: doc._id });
    expect(back).toEqual(doc);
    const count = async (f: object): Promise<number> => db.collection('types').countDocuments(f);
    expect(await count({ d: { $type: 'double' } })).toBe(1);
    expect(await count({ i: { $type: 'int' } })).toBe(1);
    expect(await count({ l: { $type: 'long' } })).toBe(1);
    expect(await count({ dec: { $type: 'number' } })).toBe(1);
    expect(await count({ _id: { $type: 'objectId' } })).toBe(1);
    expect(await count({ i: { $type: 1 } })).toBe(0);
    expect(await count({ d: 1, i: 1 })).toBe(1);
    expect(await count({ missing: null, nul: null })).toBe(1);
  });

  it('sorts across types in BSON order and numbers by value', async () => {
    const c = db.collection('order');
    await c.insertMany([{ v: 'a' }, { v: 2.5 }, { v: Long.fromNumber(2) }, { v: null }, { v: new Date(0) }, { v: true }, { v: new ObjectId('000000000000000000000000') }, { v: { o: 1 } }, { v: new Int32(3) }]);
    const got = (await typed.db('crud').collection('order').find({}, { projection: { _id: 0 } }).sort({ v: 1 }).toArray()).map((d) => d.v);
    expect(got.map((v) => (v === null ? 'null' : (v as { _bsontype?: string })._bsontype ?? (v instanceof Date ? 'Date' : typeof v)))).toEqual([
      'null', 'Long', 'Double', 'Int32', 'string', 'object', 'ObjectId', 'boolean', 'Date',
    ]);
  });
});

describe('TTL and persistence', () => {
  it('expires documents through the TTL monitor', async () => {
    const c = db.collection('ttl');
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
    await c.insertMany([{ at: new Date(Date.now() - 10_000) }, { at: new Date(Date.now() + 3_600_000) }, { at: 'not a date' }]);
    for (let i = 0; i < 50 && (await c.countDocuments()) > 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await c.countDocuments()).toBe(2);
  });

  it('recovers collections, indexes and typed documents after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engine-persist-'));
    try {
      let m = await startEmbeddedMongo({ dbPath: dir, fsync: 'never' });
      let cl = await MongoClient.connect(`${m.uri}/p`);
      await cl.db('p').collection('c').createIndex({ u: 1 }, { unique: true });
      await cl.db('p').collection('c').insertMany([{ _id: 1 as never, u: 'a', d: new Double(1) }, { _id: 2 as never, u: 'b' }]);
      await cl.db('p').collection('c').updateOne({ _id: 2 as never }, { $set: { x: Long.fromNumber(5) } });
      await cl.db('p').collection('c').deleteOne({ _id: 1 as never });
      await cl.close();
      await m.close();
      m = await startEmbeddedMongo({ dbPath: dir, fsync: 'never' });
      cl = await MongoClient.connect(`${m.uri}/p`);
      const tc = await MongoClient.connect(`${m.uri}/p`, { promoteValues: false });
      try {
        expect(m.status().documents).toBe(1);
        expect(m.status().recovered).toBeDefined();
        expect(await tc.db('p').collection('c').find().toArray()).toEqual([{ _id: new Int32(2), u: 'b', x: Long.fromNumber(5) }]);
        await expect(cl.db('p').collection('c').insertOne({ u: 'b' })).rejects.toMatchObject({ code: 11000 });
      } finally {
        await tc.close();
        await cl.close();
        await m.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
