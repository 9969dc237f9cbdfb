/**
 * Store conformance: the mongoose-level behaviour the app relies on, asserted identically against
 * the embedded engine (default) and real MongoDB 7/8 (set MONGODB_URI). Expected values are what a
 * real standalone mongod answers, so any embedded/real difference shows up here as a failure.
 *
 * Every case gets its own collection (see `fresh`) so cases stay independent and order-free.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose, { Schema } from 'mongoose';
import type { Connection, Model } from 'mongoose';
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, UUID } from 'mongodb';
import type { Collection, Document } from 'mongodb';
import { CRASH_COLLECTION, CRASH_DB, crashPayload } from './fixtures/crash-contract.ts';
import { connect, makeTempDir, nativeDb, openTarget, removeDir, startEmbedded, targetKind } from './target.ts';
import type { StoreTarget } from './target.ts';

let t: StoreTarget;

beforeAll(async () => {
  t = await openTarget('conformance');
});

afterAll(async () => {
  await t?.close();
});

// ---------------------------------------------------------------------------------------------
// helpers

let collectionSeq = 0;
/** Collection names unique within this file's database, so no case sees another's data or indexes. */
function fresh(tag: string): string {
  collectionSeq += 1;
  return `${tag}_${collectionSeq}`;
}

/** A model on its own fresh collection (mongoose would otherwise pluralise the name). */
function model<TSchema extends Schema>(tag: string, schema: TSchema) {
  const name = fresh(tag);
  return t.conn.model(name, schema, name);
}

/** Schemaless model for aggregate cases; seed it through `nativeOf` so mongoose adds no defaults. */
function looseModel(tag: string): Model<Document> {
  const name = fresh(tag);
  return t.conn.model<Document>(name, new Schema({}, { strict: false, versionKey: false }), name);
}

/** Raw rows: cases use numeric and string `_id`s, which the driver's default typing (ObjectId) forbids. */
interface Row extends Document {
  _id?: string | number | ObjectId;
}

function nativeCollection(tag: string): Collection<Row> {
  return t.db.collection<Row>(fresh(tag));
}

/** The driver's own collection behind a model (mongoose's wrapper adds buffering and casting). */
function nativeOf(m: { collection: { collectionName: string } }): Collection<Row> {
  return t.db.collection<Row>(m.collection.collectionName);
}

/** The fields the suite inspects on driver/mongoose errors; everything optional because shapes differ. */
interface StoreError extends Error {
  code?: number;
  codeName?: string;
  keyPattern?: Document;
  keyValue?: Document;
  writeErrors?: Array<{ index: number; code: number; errmsg?: string }>;
  /** mongoose-specific: docs an insertMany did persist before/around the failure */
  insertedDocs?: Array<{ get(path: string): unknown }>;
  result?: { insertedCount: number };
}

/** Awaits `work` and returns its rejection; a success is itself a failure of the case. */
async function errorOf(work: PromiseLike<unknown>): Promise<StoreError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof Error) return err as StoreError;
    throw err;
  }
  throw new Error('expected the operation to be rejected, but it succeeded');
}

function expectDuplicateKey(err: StoreError, collection: string, indexName: string): void {
  expect(err.code).toBe(11000);
  expect(err.message).toContain('E11000 duplicate key error');
  expect(err.message).toContain(`collection: ${t.dbName}.${collection}`);
  expect(err.message).toContain(`index: ${indexName}`);
  expect(err.message).toContain('dup key');
}

async function idsOf(coll: Collection<Row>, filter: Document, sort: Document = { _id: 1 }): Promise<unknown[]> {
  const docs = await coll.find(filter, { projection: { _id: 1 } }).sort(sort).toArray();
  return docs.map((d) => d._id);
}

function sorted<T>(values: Iterable<T>): T[] {
  return [...values].sort();
}

const followUserSchema = () =>
  new Schema({ userid: String, remark: String, rank: Number }, { _id: false });

/** Shape of the app's contact documents (trimmed to what the cases touch). */
const contactSchema = () =>
  new Schema(
    {
      external_userid: { type: String, required: true, unique: true },
      name: String,
      fullName: String,
      corpId: { type: String, index: true },
      tags: [String],
      scores: [Number],
      followUsers: [followUserSchema()],
      score: Number,
      visits: Number,
      lowest: Number,
      highest: Number,
      status: String,
      profile: { city: String, level: Number },
      createdAt: Date,
      updatedAt: Date,
    },
    { versionKey: false },
  );

async function contactModel(tag: string) {
  const Contact = model(tag, contactSchema());
  await Contact.init();
  return Contact;
}

// ---------------------------------------------------------------------------------------------

describe('create, save and insertMany', () => {
  it('create() then findById().lean() returns the stored document with its types', async () => {
    const Contact = await contactModel('create');
    const createdAt = new Date('2024-01-01T00:00:00.000Z');
    const doc = await Contact.create({
      external_userid: 'wm1',
      name: 'Alice',
      tags: ['vip'],
      followUsers: [{ userid: 'u1', remark: 'met at expo' }],
      score: 10,
      createdAt,
    });
    expect(doc._id).toBeInstanceOf(mongoose.Types.ObjectId);

    const found = await Contact.findById(doc._id).lean();
    expect(found).toMatchObject({
      external_userid: 'wm1',
      name: 'Alice',
      tags: ['vip'],
      followUsers: [{ userid: 'u1', remark: 'met at expo' }],
      score: 10,
      createdAt,
    });
    expect(found?._id.equals(doc._id)).toBe(true);
    expect(found).not.toBeInstanceOf(mongoose.Document);
  });

  it('save() on a loaded document persists changes, including array pushes', async () => {
    const Contact = await contactModel('save');
    await Contact.create({ external_userid: 'wm1', name: 'Alice', tags: ['a'] });
    const doc = await Contact.findOne({ external_userid: 'wm1' }).orFail();
    doc.name = 'Alice B';
    doc.tags.push('b');
    await doc.save();
    const again = await Contact.findOne({ external_userid: 'wm1' }).lean();
    expect(again).toMatchObject({ name: 'Alice B', tags: ['a', 'b'] });
  });

  it('save() of a duplicate unique value fails with 11000, keyPattern and keyValue', async () => {
    const Contact = await contactModel('savedup');
    await Contact.create({ external_userid: 'wm-dup', name: 'first' });
    const err = await errorOf(Contact.create({ external_userid: 'wm-dup', name: 'second' }));
    expectDuplicateKey(err, Contact.collection.collectionName, 'external_userid_1');
    expect(err.keyPattern).toEqual({ external_userid: 1 });
    expect(err.keyValue).toEqual({ external_userid: 'wm-dup' });
    expect(await Contact.countDocuments()).toBe(1);
    expect((await Contact.findOne().lean())?.name).toBe('first');
  });

  it('ordered insertMany stops at a duplicate in the middle and reports it', async () => {
    const Contact = await contactModel('insordered');
    await Contact.create({ external_userid: 'taken' });
    const err = await errorOf(
      Contact.insertMany([
        { external_userid: 'a' },
        { external_userid: 'b' },
        { external_userid: 'taken' },
        { external_userid: 'c' },
      ]),
    );
    expect(err.code).toBe(11000);
    expect(err.writeErrors).toHaveLength(1);
    expect(err.writeErrors?.[0]?.index).toBe(2);
    expect(err.writeErrors?.[0]?.code).toBe(11000);
    expect(err.writeErrors?.[0]?.errmsg).toContain('external_userid_1');
    expect(err.writeErrors?.[0]?.errmsg).toContain('dup key');
    expect(err.result?.insertedCount).toBe(2);
    expect(err.insertedDocs?.map((d) => d.get('external_userid'))).toEqual(['a', 'b']);
    expect(sorted(await Contact.distinct('external_userid'))).toEqual(['a', 'b', 'taken']);
  });

  it('unordered insertMany inserts everything but the in-batch duplicate', async () => {
    const Contact = await contactModel('insunordered');
    const err = await errorOf(
      Contact.insertMany(
        [
          { external_userid: 'x' },
          { external_userid: 'y' },
          { external_userid: 'x' },
          { external_userid: 'z' },
        ],
        { ordered: false },
      ),
    );
    expect(err.code).toBe(11000);
    expect(err.writeErrors?.map((e) => [e.index, e.code])).toEqual([[2, 11000]]);
    expect(err.writeErrors?.[0]?.errmsg).toContain('dup key');
    expect(err.result?.insertedCount).toBe(3);
    expect(err.insertedDocs?.map((d) => d.get('external_userid'))).toEqual(['x', 'y', 'z']);
    expect(sorted(await Contact.distinct('external_userid'))).toEqual(['x', 'y', 'z']);
  });

  it('insertMany of valid docs returns hydrated documents with _ids', async () => {
    const Contact = await contactModel('insok');
    const docs = await Contact.insertMany([{ external_userid: 'p' }, { external_userid: 'q' }]);
    expect(docs.map((d) => d.external_userid)).toEqual(['p', 'q']);
    expect(docs.every((d) => d._id instanceof mongoose.Types.ObjectId)).toBe(true);
    expect(await Contact.countDocuments()).toBe(2);
  });
});

describe('queries', () => {
  let Contact: Awaited<ReturnType<typeof contactModel>>;

  beforeAll(async () => {
    Contact = await contactModel('query');
    await Contact.insertMany(
      Array.from({ length: 10 }, (_, i) => ({
        external_userid: `wm${i}`,
        name: `n${i}`,
        corpId: i % 2 === 0 ? 'c-even' : 'c-odd',
        tags: [i % 2 === 0 ? 'even' : 'odd', ...(i % 3 === 0 ? ['three'] : [])],
        followUsers: [{ userid: `u${i % 3}`, remark: i > 5 ? 'late' : 'early', rank: i }],
        score: i,
      })),
    );
  });

  const operatorCases: Array<[string, Document, number[]]> = [
    ['$gt', { score: { $gt: 7 } }, [8, 9]],
    ['$in', { score: { $in: [1, 3, 99] } }, [1, 3]],
    ['$nin', { score: { $nin: [0, 1, 2, 3, 4, 5, 6, 7] } }, [8, 9]],
    ['$or', { $or: [{ score: 0 }, { score: 9 }] }, [0, 9]],
    ['$and', { $and: [{ score: { $gte: 2 } }, { score: { $lt: 4 } }] }, [2, 3]],
    ['array contains', { tags: 'three' }, [0, 3, 6, 9]],
    ['$all', { tags: { $all: ['even', 'three'] } }, [0, 6]],
    ['$size', { tags: { $size: 2 } }, [0, 3, 6, 9]],
    ['$regex', { name: { $regex: '^n[1-3]$' } }, [1, 2, 3]],
    ['$not', { score: { $not: { $gte: 2 } } }, [0, 1]],
    ['$regex with options', { name: { $regex: '^N1$', $options: 'i' } }, [1]],
    ['regex literal inside $in', { name: { $in: [/^n[89]$/, 'n0'] } }, [0, 8, 9]],
    ['$elemMatch', { followUsers: { $elemMatch: { userid: 'u1', remark: 'late' } } }, [7]],
    ['dotted path into array of subdocs', { 'followUsers.userid': 'u2' }, [2, 5, 8]],
    ['$mod', { score: { $mod: [4, 1] } }, [1, 5, 9]],
    ['$expr', { $expr: { $gt: ['$score', 7] } }, [8, 9]],
    ['$exists', { score: { $exists: true }, visits: { $exists: false } }, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
  ];

  it.each(operatorCases)('filter with %s', async (_label, filter, expectedScores) => {
    const docs = await Contact.find(filter).sort({ score: 1 }).lean();
    expect(docs.map((d) => d.score)).toEqual(expectedScores);
  });

  it('sort + skip + limit + inclusion projection', async () => {
    const docs = await Contact.find({ corpId: 'c-even' })
      .sort({ score: -1 })
      .skip(1)
      .limit(2)
      .select({ name: 1, score: 1 })
      .lean();
    expect(docs.map((d) => d.score)).toEqual([6, 4]);
    for (const d of docs) expect(sorted(Object.keys(d))).toEqual(['_id', 'name', 'score']);
  });

  it('exclusion projection and _id suppression', async () => {
    const doc = await Contact.findOne({ score: 3 }).select({ _id: 0, followUsers: 0, tags: 0, scores: 0 }).lean();
    expect(doc).toEqual({ external_userid: 'wm3', name: 'n3', corpId: 'c-odd', score: 3 });
  });

  it('projection of a dotted path inside an array of subdocs', async () => {
    const doc = await Contact.findOne({ score: 4 }).select({ _id: 0, 'followUsers.userid': 1 }).lean();
    expect(doc).toEqual({ followUsers: [{ userid: 'u1' }] });
  });

  it('$slice and positional projections', async () => {
    const coll = nativeOf(Contact);
    const sliced = await coll.findOne({ score: 0 }, { projection: { _id: 0, tags: { $slice: 1 } } });
    expect(sliced?.tags).toEqual(['even']);
    const positional = await coll.findOne(
      { score: 3, tags: 'three' },
      { projection: { _id: 0, 'tags.$': 1 } },
    );
    expect(positional).toEqual({ tags: ['three'] });
  });

  it('a $slice on a nested path shapes the answer, never the stored document', async () => {
    const coll = nativeCollection('slicenested');
    await coll.insertOne({ _id: 1, a: { b: [1, 2, 3] } } as never);
    expect(await coll.findOne({ _id: 1 }, { projection: { 'a.b': { $slice: 1 } } })).toEqual({ _id: 1, a: { b: [1] } });
    expect(await coll.find({ 'a.b': 3 }).toArray()).toEqual([{ _id: 1, a: { b: [1, 2, 3] } }]);
  });

  it('mixing inclusion and exclusion in a projection is rejected by the server', async () => {
    const err = await errorOf(
      nativeOf(Contact).find({}, { projection: { name: 1, score: 0 } }).toArray(),
    );
    expect(err.name).toBe('MongoServerError');
  });

  it('sort on an array field uses the min element ascending and the max descending', async () => {
    const coll = nativeCollection('arraysort');
    await coll.insertMany([
      { _id: 'a', v: [3, 1] },
      { _id: 'b', v: [2] },
      { _id: 'c', v: [5, 0.5] },
    ]);
    expect(await idsOf(coll, {}, { v: 1 })).toEqual(['c', 'a', 'b']);
    expect(await idsOf(coll, {}, { v: -1 })).toEqual(['c', 'a', 'b']);
    await coll.insertOne({ _id: 'd', v: [4] });
    expect(await idsOf(coll, {}, { v: -1 })).toEqual(['c', 'd', 'a', 'b']);
  });

  it('countDocuments, estimatedDocumentCount, distinct and exists', async () => {
    expect(await Contact.countDocuments()).toBe(10);
    expect(await Contact.countDocuments({ score: { $lt: 3 } })).toBe(3);
    expect(await Contact.estimatedDocumentCount()).toBe(10);
    expect(sorted(await Contact.distinct('corpId'))).toEqual(['c-even', 'c-odd']);
    // distinct unwinds array values
    expect(sorted(await Contact.distinct('tags'))).toEqual(['even', 'odd', 'three']);
    expect(sorted(await Contact.distinct('tags', { score: { $gte: 8 } }))).toEqual(['even', 'odd', 'three']);
    const hit = await Contact.exists({ external_userid: 'wm4' });
    expect(hit?._id).toBeInstanceOf(mongoose.Types.ObjectId);
    expect(await Contact.exists({ external_userid: 'nobody' })).toBeNull();
  });

  it('findOne with no match returns null', async () => {
    expect(await Contact.findOne({ score: 1000 }).lean()).toBeNull();
  });
});

describe('cursors', () => {
  const total = 250;
  const itemModel = () => model('cursor', new Schema({ seq: { type: Number, required: true }, label: String }, { versionKey: false }));
  let Item: ReturnType<typeof itemModel>;

  beforeAll(async () => {
    Item = itemModel();
    await Item.insertMany(Array.from({ length: total }, (_, seq) => ({ seq, label: `item-${seq}` })));
  });

  const allSeqs = Array.from({ length: total }, (_, i) => i);

  it('a find over more than 101 docs returns every doc (first batch + getMore)', async () => {
    const docs = await Item.find().sort({ seq: 1 }).lean();
    expect(docs.map((d) => d.seq)).toEqual(allSeqs);
  });

  it('native cursor with a small batchSize walks every batch', async () => {
    const seen: number[] = [];
    for await (const doc of nativeOf(Item).find({}, { batchSize: 7 }).sort({ seq: 1 })) {
      seen.push(doc.seq as number);
    }
    expect(seen).toEqual(allSeqs);
  });

  it('Query.cursor() with batchSize yields hydrated documents in order', async () => {
    const seen: number[] = [];
    for await (const doc of Item.find().sort({ seq: 1 }).batchSize(10).cursor()) {
      expect(doc).toBeInstanceOf(mongoose.Document);
      seen.push(doc.seq);
    }
    expect(seen).toEqual(allSeqs);
  });

  it('limit larger than the first batch is honoured across getMore', async () => {
    const docs = await Item.find().sort({ seq: -1 }).limit(150).batchSize(100).lean();
    expect(docs).toHaveLength(150);
    expect(docs[0]?.seq).toBe(249);
    expect(docs[149]?.seq).toBe(100);
  });

  it('abandoning a cursor early (killCursors) leaves the server answering', async () => {
    const cursor = Item.find().sort({ seq: 1 }).batchSize(5).cursor();
    const firstThree: number[] = [];
    for await (const doc of cursor) {
      firstThree.push(doc.seq);
      if (firstThree.length === 3) break;
    }
    expect(firstThree).toEqual([0, 1, 2]);
    expect(await Item.countDocuments()).toBe(total);
  });

  it('skip beyond the end returns an empty list', async () => {
    expect(await Item.find().skip(total + 5).lean()).toEqual([]);
  });
});

describe('updates', () => {
  it('$set/$unset/$inc with dotted paths, reporting matched and modified counts', async () => {
    const Contact = await contactModel('setinc');
    const { _id } = await Contact.create({ external_userid: 'a', name: 'a', score: 1, profile: { city: 'BJ' } });
    const res = await Contact.updateOne(
      { _id },
      { $set: { 'profile.level': 3, name: 'b' }, $unset: { 'profile.city': '' }, $inc: { score: 2, visits: 1 } },
    );
    expect(res).toMatchObject({ acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
    const doc = await Contact.findById(_id).lean();
    expect(doc).toMatchObject({ name: 'b', score: 3, visits: 1, profile: { level: 3 } });
    expect(doc?.profile).not.toHaveProperty('city');
  });

  it('an update that changes nothing matches but does not modify', async () => {
    const Contact = await contactModel('noop');
    const { _id } = await Contact.create({ external_userid: 'a', name: 'same' });
    const res = await Contact.updateOne({ _id }, { $set: { name: 'same' } });
    expect(res).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
    const miss = await Contact.updateOne({ external_userid: 'nobody' }, { $set: { name: 'x' } });
    expect(miss).toMatchObject({ matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null });
  });

  it('$set on a nested path creates the intermediate object', async () => {
    const Contact = await contactModel('setnested');
    const { _id } = await Contact.create({ external_userid: 'a' });
    await Contact.updateOne({ _id }, { $set: { 'profile.city': 'SH' } });
    expect((await Contact.findById(_id).lean())?.profile).toEqual({ city: 'SH' });
  });

  it('$push with $each/$slice and $each/$sort/$slice', async () => {
    const Contact = await contactModel('push');
    const { _id } = await Contact.create({ external_userid: 'a', scores: [1, 2], followUsers: [] });
    await Contact.updateOne({ _id }, { $push: { scores: { $each: [3, 4], $slice: -3 } } });
    expect((await Contact.findById(_id).lean())?.scores).toEqual([2, 3, 4]);
    await Contact.updateOne(
      { _id },
      {
        $push: {
          followUsers: {
            $each: [
              { userid: 'u1', rank: 5 },
              { userid: 'u2', rank: 9 },
              { userid: 'u3', rank: 7 },
            ],
            $sort: { rank: -1 },
            $slice: 2,
          },
        },
      },
    );
    expect((await Contact.findById(_id).lean())?.followUsers.map((f) => f.userid)).toEqual(['u2', 'u3']);
  });

  it('$push onto a missing field creates the array', async () => {
    const coll = t.db.collection<{ _id: number; list?: string[] }>(fresh('pushmissing'));
    await coll.insertOne({ _id: 1 });
    await coll.updateOne({ _id: 1 }, { $push: { list: 'first' } });
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, list: ['first'] });
  });

  it('$addToSet with $each adds only missing values', async () => {
    const Contact = await contactModel('addtoset');
    const { _id } = await Contact.create({ external_userid: 'a', tags: ['vip', 'new'] });
    const res = await Contact.updateOne({ _id }, { $addToSet: { tags: { $each: ['new', 'hot', 'hot'] } } });
    expect(res.modifiedCount).toBe(1);
    expect((await Contact.findById(_id).lean())?.tags).toEqual(['vip', 'new', 'hot']);
    const again = await Contact.updateOne({ _id }, { $addToSet: { tags: 'vip' } });
    expect(again.modifiedCount).toBe(0);
  });

  it('$pull by condition and by partial subdocument match', async () => {
    const Contact = await contactModel('pull');
    const { _id } = await Contact.create({
      external_userid: 'a',
      scores: [1, 5, 2, 8, 5],
      followUsers: [
        { userid: 'u1', remark: 'x' },
        { userid: 'u2', remark: 'y' },
        { userid: 'u1', remark: 'z' },
      ],
    });
    await Contact.updateOne({ _id }, { $pull: { scores: { $gte: 5 }, followUsers: { userid: 'u1' } } });
    const doc = await Contact.findById(_id).lean();
    expect(doc?.scores).toEqual([1, 2]);
    expect(doc?.followUsers).toEqual([{ userid: 'u2', remark: 'y' }]);
  });

  it('$min and $max only move a value in their direction', async () => {
    const Contact = await contactModel('minmax');
    const { _id } = await Contact.create({ external_userid: 'a', lowest: 5, highest: 5 });
    await Contact.updateOne({ _id }, { $min: { lowest: 7 }, $max: { highest: 3 } });
    expect(await Contact.findById(_id).lean()).toMatchObject({ lowest: 5, highest: 5 });
    await Contact.updateOne({ _id }, { $min: { lowest: 2 }, $max: { highest: 9 } });
    expect(await Contact.findById(_id).lean()).toMatchObject({ lowest: 2, highest: 9 });
  });

  it('$pop, $pullAll, $mul and $push with $position', async () => {
    const coll = t.db.collection<{ _id: number; a: number[]; b: number[]; price: number; missing?: number; list: string[] }>(
      fresh('moreops'),
    );
    await coll.insertOne({ _id: 1, a: [1, 2, 3, 4], b: [1, 2, 1, 3], price: 10, list: ['x'] });
    await coll.updateOne(
      { _id: 1 },
      {
        $pop: { a: -1 },
        $pullAll: { b: [1, 3] },
        $mul: { price: 2, missing: new Int32(5) },
        $push: { list: { $each: ['first'], $position: 0 } },
      },
    );
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, a: [2, 3, 4], b: [2], price: 20, missing: 0, list: ['first', 'x'] });
  });

  it('pipeline-style update computes from the document itself', async () => {
    const coll = nativeCollection('pipelineupdate');
    await coll.insertOne({ _id: 1, a: 2, b: 3 });
    await coll.updateOne({ _id: 1 }, [{ $set: { total: { $add: ['$a', '$b'] } } }, { $unset: 'b' }]);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, a: 2, total: 5 });
  });

  it('concurrent $inc and concurrent upserts on a unique key all apply exactly once', async () => {
    const Contact = await contactModel('concurrent');
    const { _id } = await Contact.create({ external_userid: 'hot', visits: 0 });
    await Promise.all(Array.from({ length: 50 }, () => Contact.updateOne({ _id }, { $inc: { visits: 1 } })));
    expect((await Contact.findById(_id).lean())?.visits).toBe(50);
    // upserts on an equality over a unique index are retried by the server on a key collision
    await Promise.all(
      Array.from({ length: 10 }, () =>
        Contact.updateOne({ external_userid: 'fresh' }, { $inc: { visits: 1 } }, { upsert: true }),
      ),
    );
    expect(await Contact.find({ external_userid: 'fresh' }).lean()).toEqual([
      expect.objectContaining({ external_userid: 'fresh', visits: 10 }),
    ]);
  });

  it('$rename moves a field', async () => {
    const Contact = await contactModel('rename');
    const { _id } = await Contact.create({ external_userid: 'a', name: 'Zhang San' });
    await Contact.updateOne({ _id }, { $rename: { name: 'fullName' } });
    const doc = await Contact.findById(_id).lean();
    expect(doc?.fullName).toBe('Zhang San');
    expect(doc).not.toHaveProperty('name');
  });

  it('$currentDate sets a BSON date (or timestamp on request)', async () => {
    const coll = nativeCollection('currentdate');
    await coll.insertOne({ _id: 1 });
    await coll.updateOne({ _id: 1 }, { $currentDate: { at: { $type: 'date' }, ts: { $type: 'timestamp' } } });
    const doc = await coll.findOne({ _id: 1 });
    expect(doc?.at).toBeInstanceOf(Date);
    expect((doc?.at as Date).getUTCFullYear()).toBeGreaterThanOrEqual(2024);
    expect(await coll.countDocuments({ at: { $type: 'date' }, ts: { $type: 'timestamp' } })).toBe(1);
  });

  it('positional $ updates the first matched array element', async () => {
    const Contact = await contactModel('positional');
    const { _id } = await Contact.create({
      external_userid: 'a',
      followUsers: [{ userid: 'u1' }, { userid: 'u2' }, { userid: 'u2' }],
      scores: [4, 7, 9],
    });
    await Contact.updateOne({ _id, 'followUsers.userid': 'u2' }, { $set: { 'followUsers.$.remark': 'vip' } });
    await Contact.updateOne({ _id, scores: { $gt: 5 } }, { $inc: { 'scores.$': 100 } });
    const doc = await Contact.findById(_id).lean();
    expect(doc?.followUsers).toEqual([{ userid: 'u1' }, { userid: 'u2', remark: 'vip' }, { userid: 'u2' }]);
    expect(doc?.scores).toEqual([4, 107, 9]);
  });

  it('arrayFilters $[elem] and all-positional $[] update the selected elements', async () => {
    const Contact = await contactModel('arrayfilters');
    const { _id } = await Contact.create({
      external_userid: 'a',
      followUsers: [
        { userid: 'u1', rank: 1 },
        { userid: 'u2', rank: 2 },
        { userid: 'u3', rank: 3 },
      ],
      scores: [1, 2, 3],
    });
    await Contact.updateOne(
      { _id },
      { $set: { 'followUsers.$[f].remark': 'senior' } },
      { arrayFilters: [{ 'f.rank': { $gte: 2 } }] },
    );
    await Contact.updateOne({ _id }, { $inc: { 'scores.$[]': 10 } });
    const doc = await Contact.findById(_id).lean();
    expect(doc?.followUsers.map((f) => f.remark ?? null)).toEqual([null, 'senior', 'senior']);
    expect(doc?.scores).toEqual([11, 12, 13]);
  });

  it('updates by array index path', async () => {
    const Contact = await contactModel('indexpath');
    const { _id } = await Contact.create({ external_userid: 'a', scores: [1, 2, 3], followUsers: [{ userid: 'u1' }] });
    await Contact.updateOne({ _id }, { $set: { 'scores.1': 20, 'followUsers.0.remark': 'first' } });
    const doc = await Contact.findById(_id).lean();
    expect(doc?.scores).toEqual([1, 20, 3]);
    expect(doc?.followUsers).toEqual([{ userid: 'u1', remark: 'first' }]);
  });

  it('updateMany modifies every match', async () => {
    const Contact = await contactModel('updatemany');
    await Contact.insertMany([
      { external_userid: 'a', status: 'new' },
      { external_userid: 'b', status: 'new' },
      { external_userid: 'c', status: 'done' },
    ]);
    const res = await Contact.updateMany({ status: 'new' }, { $set: { status: 'contacted' }, $inc: { visits: 1 } });
    expect(res).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    expect(await Contact.countDocuments({ status: 'contacted', visits: 1 })).toBe(2);
    expect(await Contact.countDocuments({ status: 'done', visits: { $exists: false } })).toBe(1);
  });

  it('upsert inserts filter equality fields (incl. dotted and $and) plus $set and $setOnInsert', async () => {
    const Contact = await contactModel('upsert');
    const createdAt = new Date('2024-05-01T00:00:00.000Z');
    const res = await Contact.updateOne(
      {
        external_userid: 'wm-up',
        'profile.city': 'SZ',
        score: { $gt: 5 },
        $and: [{ corpId: 'corp1' }],
      },
      { $set: { name: 'Up' }, $setOnInsert: { createdAt } },
      { upsert: true },
    );
    expect(res).toMatchObject({ matchedCount: 0, modifiedCount: 0, upsertedCount: 1 });
    expect(res.upsertedId).toBeInstanceOf(mongoose.Types.ObjectId);
    const doc = await Contact.findById(res.upsertedId).lean();
    expect(doc).toMatchObject({
      external_userid: 'wm-up',
      profile: { city: 'SZ' },
      corpId: 'corp1',
      name: 'Up',
      createdAt,
    });
    // $gt is not an equality, so it contributes nothing to the inserted doc
    expect(doc).not.toHaveProperty('score');

    const second = await Contact.updateOne(
      { external_userid: 'wm-up' },
      { $set: { name: 'Up2' }, $setOnInsert: { createdAt: new Date('2030-01-01T00:00:00.000Z') } },
      { upsert: true },
    );
    expect(second).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null });
    expect(await Contact.findById(res.upsertedId).lean()).toMatchObject({ name: 'Up2', createdAt });
  });

  it('upsert takes _id from the filter', async () => {
    const coll = nativeCollection('upsertid');
    const res = await coll.updateOne({ _id: 'fixed-id' }, { $set: { v: 1 } }, { upsert: true });
    expect(res.upsertedId).toBe('fixed-id');
    expect(await coll.findOne({ _id: 'fixed-id' })).toEqual({ _id: 'fixed-id', v: 1 });
  });

  it('replaceOne keeps _id and drops fields absent from the replacement', async () => {
    const Contact = await contactModel('replace');
    const { _id } = await Contact.create({ external_userid: 'a', name: 'old', score: 3, tags: ['t'] });
    const res = await Contact.replaceOne({ _id }, { external_userid: 'a', name: 'new' });
    expect(res).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    const raw = await nativeOf(Contact).findOne({ _id });
    expect(raw?.name).toBe('new');
    expect(raw).not.toHaveProperty('score');
    expect(raw?._id).toEqual(_id);
  });

  it('findOneAndUpdate returns the pre-image by default and the post-image with returnDocument after', async () => {
    const Contact = await contactModel('foau');
    await Contact.create({ external_userid: 'a', score: 1 });
    const before = await Contact.findOneAndUpdate({ external_userid: 'a' }, { $inc: { score: 1 } }).lean();
    expect(before?.score).toBe(1);
    const after = await Contact.findOneAndUpdate(
      { external_userid: 'a' },
      { $inc: { score: 1 } },
      { returnDocument: 'after' },
    ).lean();
    expect(after?.score).toBe(3);
    const missing = await Contact.findOneAndUpdate({ external_userid: 'zz' }, { $inc: { score: 1 } }).lean();
    expect(missing).toBeNull();
  });

  it('findOneAndUpdate upsert with returnDocument after returns the inserted doc', async () => {
    const Contact = await contactModel('foauupsert');
    const doc = await Contact.findOneAndUpdate(
      { external_userid: 'new-one' },
      { $set: { name: 'N' }, $setOnInsert: { score: 0 } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    expect(doc).toMatchObject({ external_userid: 'new-one', name: 'N', score: 0 });
    expect(doc?._id).toBeInstanceOf(mongoose.Types.ObjectId);
  });

  it('findOneAndUpdate with includeResultMetadata reports lastErrorObject', async () => {
    const Contact = await contactModel('foaumeta');
    await Contact.create({ external_userid: 'a', score: 1 });
    const updated = await Contact.findOneAndUpdate(
      { external_userid: 'a' },
      { $set: { score: 2 } },
      { includeResultMetadata: true, returnDocument: 'after', lean: true },
    );
    expect(updated.ok).toBe(1);
    expect(updated.lastErrorObject).toEqual({ n: 1, updatedExisting: true });
    expect(updated.value?.score).toBe(2);

    const upserted = await Contact.findOneAndUpdate(
      { external_userid: 'b' },
      { $set: { score: 9 } },
      { includeResultMetadata: true, upsert: true, returnDocument: 'after', lean: true },
    );
    expect(upserted.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false });
    expect(upserted.lastErrorObject?.upserted).toBeInstanceOf(mongoose.Types.ObjectId);
    expect(upserted.value?._id).toEqual(upserted.lastErrorObject?.upserted);

    const none = await Contact.findOneAndUpdate(
      { external_userid: 'zz' },
      { $set: { score: 1 } },
      { includeResultMetadata: true, lean: true },
    );
    expect(none.value).toBeNull();
    expect(none.lastErrorObject).toEqual({ n: 0, updatedExisting: false });
  });

  it('findOneAndDelete returns the removed doc once, then null', async () => {
    const Contact = await contactModel('foad');
    await Contact.insertMany([
      { external_userid: 'a', score: 1 },
      { external_userid: 'b', score: 2 },
    ]);
    const first = await Contact.findOneAndDelete({}, { sort: { score: -1 } }).lean();
    expect(first?.external_userid).toBe('b');
    expect(await Contact.findOneAndDelete({ external_userid: 'b' }).lean()).toBeNull();
    expect(await Contact.countDocuments()).toBe(1);
  });

  it('deleteOne and deleteMany report deletedCount', async () => {
    const Contact = await contactModel('delete');
    await Contact.insertMany(['a', 'b', 'c', 'd'].map((id, i) => ({ external_userid: id, score: i })));
    expect(await Contact.deleteOne({ score: { $gte: 1 } })).toMatchObject({ acknowledged: true, deletedCount: 1 });
    expect(await Contact.deleteMany({ score: { $gte: 1 } })).toMatchObject({ deletedCount: 2 });
    expect(await Contact.deleteMany({ score: 99 })).toMatchObject({ deletedCount: 0 });
    expect(await Contact.distinct('external_userid')).toEqual(['a']);
  });

  it('bulkWrite with mixed operations reports every count', async () => {
    const Contact = await contactModel('bulk');
    await Contact.insertMany([
      { external_userid: 'a', score: 1 },
      { external_userid: 'b', score: 2 },
      { external_userid: 'c', score: 3 },
    ]);
    const res = await Contact.bulkWrite([
      { insertOne: { document: { external_userid: 'd', score: 4 } } },
      { updateOne: { filter: { external_userid: 'a' }, update: { $set: { name: 'A' } } } },
      { updateMany: { filter: { score: { $gte: 2 } }, update: { $inc: { visits: 1 } } } },
      { deleteOne: { filter: { external_userid: 'c' } } },
      { replaceOne: { filter: { external_userid: 'b' }, replacement: { external_userid: 'b', score: 20 } } },
      { updateOne: { filter: { external_userid: 'e' }, update: { $set: { score: 5 } }, upsert: true } },
    ]);
    expect(res.insertedCount).toBe(1);
    // updateOne a + updateMany b,c,d + replace b
    expect(res.matchedCount).toBe(5);
    expect(res.modifiedCount).toBe(5);
    expect(res.deletedCount).toBe(1);
    expect(res.upsertedCount).toBe(1);
    expect(Object.keys(res.upsertedIds)).toEqual(['5']);
    expect(sorted(await Contact.distinct('external_userid'))).toEqual(['a', 'b', 'd', 'e']);
    expect(await Contact.findOne({ external_userid: 'b' }).lean()).not.toHaveProperty('visits');
  });
});

describe('indexes', () => {
  it('schema indexes appear in listIndexes after init()', async () => {
    const Contact = await contactModel('listidx');
    const indexes = await Contact.listIndexes();
    const byName = new Map(indexes.map((ix) => [ix.name as string, ix]));
    expect(sorted(byName.keys())).toEqual(['_id_', 'corpId_1', 'external_userid_1']);
    expect(byName.get('_id_')?.key).toEqual({ _id: 1 });
    expect(byName.get('external_userid_1')).toMatchObject({ key: { external_userid: 1 }, unique: true });
    expect(byName.get('corpId_1')?.key).toEqual({ corpId: 1 });
    expect(byName.get('corpId_1')?.unique).toBeUndefined();
  });

  it('compound unique rejects only the duplicate pair', async () => {
    const schema = new Schema({ corpId: String, userid: String });
    schema.index({ corpId: 1, userid: 1 }, { unique: true });
    const Member = model('compound', schema);
    await Member.init();
    await Member.create([
      { corpId: 'c1', userid: 'u1' },
      { corpId: 'c1', userid: 'u2' },
      { corpId: 'c2', userid: 'u1' },
    ]);
    const err = await errorOf(Member.create({ corpId: 'c1', userid: 'u2' }));
    expectDuplicateKey(err, Member.collection.collectionName, 'corpId_1_userid_1');
    expect(err.keyPattern).toEqual({ corpId: 1, userid: 1 });
    expect(err.keyValue).toEqual({ corpId: 'c1', userid: 'u2' });
  });

  it('a non-sparse unique index treats missing fields as null duplicates', async () => {
    const Phone = model('nullunique', new Schema({ phone: { type: String, unique: true }, n: Number }));
    await Phone.init();
    await Phone.create({ n: 1 });
    const err = await errorOf(Phone.create({ n: 2 }));
    expectDuplicateKey(err, Phone.collection.collectionName, 'phone_1');
    expect(err.keyValue).toEqual({ phone: null });
  });

  it('sparse unique allows many missing values but not repeated nulls or values', async () => {
    const Phone = model('sparse', new Schema({ phone: { type: String, unique: true, sparse: true }, n: Number }));
    await Phone.init();
    const indexes = await Phone.listIndexes();
    expect(indexes.find((ix) => ix.name === 'phone_1')).toMatchObject({ unique: true, sparse: true });
    await Phone.create([{ n: 1 }, { n: 2 }, { n: 3, phone: '138' }]);
    expect(await Phone.countDocuments()).toBe(3);
    expect((await errorOf(Phone.create({ n: 4, phone: '138' }))).code).toBe(11000);
    // sparse skips only *missing* fields: explicit nulls are indexed
    await nativeOf(Phone).insertOne({ n: 5, phone: null });
    expect((await errorOf(nativeOf(Phone).insertOne({ n: 6, phone: null }))).code).toBe(11000);
  });

  it('partial unique index enforces uniqueness only inside the filter', async () => {
    const schema = new Schema({ phone: String, status: String });
    schema.index({ phone: 1 }, { unique: true, partialFilterExpression: { status: 'active' } });
    const Lead = model('partial', schema);
    await Lead.init();
    const ix = (await Lead.listIndexes()).find((i) => i.name === 'phone_1');
    expect(ix).toMatchObject({ unique: true, partialFilterExpression: { status: 'active' } });
    await Lead.create([
      { phone: '1', status: 'archived' },
      { phone: '1', status: 'archived' },
      { phone: '1', status: 'active' },
    ]);
    const err = await errorOf(Lead.create({ phone: '1', status: 'active' }));
    expectDuplicateKey(err, Lead.collection.collectionName, 'phone_1');
    // moving an archived doc into the filter collides too
    const moveErr = await errorOf(Lead.updateOne({ status: 'archived' }, { $set: { status: 'active' } }));
    expect(moveErr.code).toBe(11000);
    expect(await Lead.countDocuments({ status: 'active' })).toBe(1);
  });

  it('multikey unique index compares array elements across documents', async () => {
    const Card = model('multikey', new Schema({ codes: { type: [String], index: { unique: true } }, n: Number }));
    await Card.init();
    // duplicates inside one document do not violate a unique index
    await Card.create({ codes: ['a', 'b', 'a'], n: 1 });
    const err = await errorOf(Card.create({ codes: ['c', 'b'], n: 2 }));
    expectDuplicateKey(err, Card.collection.collectionName, 'codes_1');
    expect(err.keyValue).toEqual({ codes: 'b' });
    await Card.create({ codes: ['c', 'd'], n: 3 });
    expect(await Card.countDocuments()).toBe(2);
  });

  it('index: true builds a plain index', async () => {
    const Tagged = model('plainidx', new Schema({ owner: { type: String, index: true } }));
    await Tagged.init();
    const ix = (await Tagged.listIndexes()).find((i) => i.name === 'owner_1');
    expect(ix?.key).toEqual({ owner: 1 });
    await Tagged.create([{ owner: 'x' }, { owner: 'x' }]);
    expect(await Tagged.countDocuments({ owner: 'x' })).toBe(2);
  });

  it('updateOne that would create a duplicate fails with 11000 and leaves the doc unchanged', async () => {
    const Contact = await contactModel('updatedup');
    await Contact.insertMany([
      { external_userid: 'a', name: 'A' },
      { external_userid: 'b', name: 'B' },
    ]);
    const err = await errorOf(Contact.updateOne({ external_userid: 'b' }, { $set: { external_userid: 'a', name: 'X' } }));
    expectDuplicateKey(err, Contact.collection.collectionName, 'external_userid_1');
    expect(err.keyValue).toEqual({ external_userid: 'a' });
    expect(await Contact.findOne({ name: 'B' }).lean()).toMatchObject({ external_userid: 'b' });
    expect(await Contact.countDocuments({ name: 'X' })).toBe(0);
  });

  it('updateMany that would create a duplicate fails with 11000 and changes nothing here', async () => {
    const coll = nativeCollection('updatemanydup');
    await coll.createIndex({ k: 1 }, { unique: true });
    await coll.insertMany([
      { _id: 1, k: 1, g: 'x' },
      { _id: 2, k: 2, g: 'x' },
      { _id: 3, k: 10, g: 'y' },
    ]);
    // whichever 'x' doc is updated first already collides with _id 3, so the write stops there
    const err = await errorOf(coll.updateMany({ g: 'x' }, { $set: { k: 10 } }));
    expect(err.code).toBe(11000);
    expect(await coll.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
      { _id: 1, k: 1, g: 'x' },
      { _id: 2, k: 2, g: 'x' },
      { _id: 3, k: 10, g: 'y' },
    ]);
  });

  it('upsert that would create a duplicate fails with 11000 and inserts nothing', async () => {
    const Contact = await contactModel('upsertdup');
    await Contact.create({ external_userid: 'a', corpId: 'c1' });
    const err = await errorOf(
      Contact.updateOne({ corpId: 'c2' }, { $set: { external_userid: 'a' } }, { upsert: true }),
    );
    expectDuplicateKey(err, Contact.collection.collectionName, 'external_userid_1');
    expect(await Contact.countDocuments()).toBe(1);
  });

  it('unique index keys compare numbers by value across BSON numeric types', async () => {
    const coll = nativeCollection('numunique');
    await coll.createIndex({ n: 1 }, { unique: true });
    await coll.insertOne({ n: new Int32(1) });
    expect((await errorOf(coll.insertOne({ n: new Double(1) }))).code).toBe(11000);
    expect((await errorOf(coll.insertOne({ n: Long.fromNumber(1) }))).code).toBe(11000);
    expect((await errorOf(coll.insertOne({ n: Decimal128.fromString('1.000') }))).code).toBe(11000);
    await coll.insertOne({ n: '1' });
    expect(await coll.countDocuments()).toBe(2);
  });

  it('a duplicate _id is 11000 on the _id_ index', async () => {
    const coll = nativeCollection('dupid');
    await coll.insertOne({ _id: 7, v: 'first' });
    const err = await errorOf(coll.insertOne({ _id: 7, v: 'second' }));
    expectDuplicateKey(err, coll.collectionName, '_id_');
    expect(err.keyPattern).toEqual({ _id: 1 });
    expect(err.keyValue).toEqual({ _id: 7 });
    expect(await coll.find().toArray()).toEqual([{ _id: 7, v: 'first' }]);
  });

  it('creating a unique index over existing duplicates fails with 11000 and builds nothing', async () => {
    const coll = nativeCollection('buildover');
    await coll.insertMany([{ k: 'same' }, { k: 'same' }, { k: 'other' }]);
    const err = await errorOf(coll.createIndex({ k: 1 }, { unique: true }));
    expect(err.code).toBe(11000);
    expect(err.message).toContain('E11000 duplicate key error');
    const names = (await coll.listIndexes().toArray()).map((ix) => ix.name);
    expect(names).toEqual(['_id_']);
  });

  it('dropIndex removes the index and its constraint; dropping an unknown index is code 27', async () => {
    const coll = nativeCollection('dropidx');
    expect(await coll.createIndex({ k: 1 }, { unique: true })).toBe('k_1');
    await coll.insertOne({ k: 1 });
    expect((await errorOf(coll.insertOne({ k: 1 }))).code).toBe(11000);
    await coll.dropIndex('k_1');
    expect((await coll.listIndexes().toArray()).map((ix) => ix.name)).toEqual(['_id_']);
    await coll.insertOne({ k: 1 });
    expect(await coll.countDocuments({ k: 1 })).toBe(2);
    const err = await errorOf(coll.dropIndex('k_1'));
    expect(err.code).toBe(27);
    expect(err.codeName).toBe('IndexNotFound');
  });

  it('syncIndexes drops indexes missing from the schema and builds the schema ones', async () => {
    const Contact = await contactModel('sync');
    await nativeOf(Contact).createIndex({ stray: 1 }, { name: 'stray_1' });
    const dropped = await Contact.syncIndexes();
    expect(dropped).toEqual(['stray_1']);
    const names = sorted((await Contact.listIndexes()).map((ix) => ix.name as string));
    expect(names).toEqual(['_id_', 'corpId_1', 'external_userid_1']);
  });

  it('an index on an existing key pattern with the same options is a no-op', async () => {
    const coll = nativeCollection('sameidx');
    await coll.createIndex({ a: 1 });
    expect(await coll.createIndex({ a: 1 })).toBe('a_1');
    expect((await coll.listIndexes().toArray()).length).toBe(2);
  });
});

describe('index-backed queries answer exactly like a collection scan', () => {
  /**
   * The same rows in an indexed and an unindexed collection: a planner that trusts an index for a
   * query the index cannot fully answer (sparse, partial, multikey bounds, numeric types) shows up
   * as the two disagreeing or missing a row.
   */
  async function twins(tag: string, rows: Row[], indexes: Array<[Document, Document?]>) {
    const indexed = nativeCollection(`${tag}_ix`);
    const plain = nativeCollection(`${tag}_scan`);
    for (const [key, options] of indexes) await indexed.createIndex(key, options ?? {});
    await indexed.insertMany(rows.map((r) => ({ ...r })));
    await plain.insertMany(rows.map((r) => ({ ...r })));
    /** Asserts both collections answer `expected`; the message names the filter that diverged. */
    return async (filter: Document, expected: unknown[], sort: Document = { _id: 1 }) => {
      const answers = { viaIndex: await idsOf(indexed, filter, sort), viaScan: await idsOf(plain, filter, sort) };
      expect(answers, `filter ${JSON.stringify(filter)}`).toEqual({ viaIndex: expected, viaScan: expected });
    };
  }

  it('sparse index: null, $exists:false, $ne and sort still see docs missing the field', async () => {
    const query = await twins(
      'sparseq',
      [{ _id: 1 }, { _id: 2, phone: '138' }, { _id: 3, phone: null }],
      [[{ phone: 1 }, { sparse: true }]],
    );
    await query({ phone: null }, [1, 3]);
    await query({ phone: { $exists: false } }, [1]);
    await query({ phone: { $ne: '138' } }, [1, 3]);
    await query({ phone: { $in: [null, '138'] } }, [1, 2, 3]);
    await query({}, [1, 3, 2], { phone: 1, _id: 1 });
  });

  it('partial index: a query outside the filter expression still sees every doc', async () => {
    const query = await twins(
      'partialq',
      [
        { _id: 1, phone: '1', status: 'archived' },
        { _id: 2, phone: '1', status: 'active' },
        { _id: 3, phone: '2', status: 'active' },
      ],
      [[{ phone: 1 }, { partialFilterExpression: { status: 'active' } }]],
    );
    await query({ phone: '1' }, [1, 2]);
    await query({ phone: '1', status: 'active' }, [2]);
  });

  it('multikey index: range conditions may be met by different elements unless $elemMatch', async () => {
    const query = await twins(
      'multikeyq',
      [
        { _id: 1, codes: ['a', 'd'] },
        { _id: 2, codes: ['b'] },
        { _id: 3, codes: ['z'] },
        { _id: 4, codes: [['a', 'd']] },
        { _id: 5, codes: [] },
      ],
      [[{ codes: 1 }]],
    );
    await query({ codes: { $gt: 'a', $lt: 'c' } }, [1, 2]);
    await query({ codes: { $elemMatch: { $gt: 'a', $lt: 'c' } } }, [2]);
    // whole-array equality matches the array itself and an element that is that array
    await query({ codes: ['a', 'd'] }, [1, 4]);
    await query({ codes: [] }, [5]);
    await query({ codes: { $size: 0 } }, [5]);
  });

  it('numeric index keys match across int, long, double and decimal', async () => {
    const query = await twins(
      'numq',
      [
        { _id: 1, n: new Int32(1) },
        { _id: 2, n: new Double(1) },
        { _id: 3, n: Long.fromNumber(1) },
        { _id: 4, n: Decimal128.fromString('1.0') },
        { _id: 5, n: '1' },
        { _id: 6, n: 1.5 },
      ],
      [[{ n: 1 }]],
    );
    await query({ n: 1 }, [1, 2, 3, 4]);
    await query({ n: new Double(1) }, [1, 2, 3, 4]);
    await query({ n: { $in: [Long.fromNumber(1), '1'] } }, [1, 2, 3, 4, 5]);
    // type bracketing: numeric bounds never match strings
    await query({ n: { $gte: 1, $lte: 2 } }, [1, 2, 3, 4, 6]);
  });

  it('non-sparse index: {field: null} returns docs missing the field too', async () => {
    const query = await twins('nullq', [{ _id: 1, k: 'x' }, { _id: 2 }, { _id: 3, k: null }], [[{ k: 1 }]]);
    await query({ k: null }, [2, 3]);
    await query({ k: { $exists: true } }, [1, 3]);
  });

  it('compound index: prefix equality with a sort on the second key, and dotted multikey paths', async () => {
    const query = await twins(
      'compoundq',
      [
        { _id: 1, corp: 'c1', user: 'b', follow: [{ uid: 'u1' }, { uid: 'u2' }] },
        { _id: 2, corp: 'c1', user: 'a', follow: [{ uid: 'u2' }] },
        { _id: 3, corp: 'c2', user: 'c', follow: [] },
        { _id: 4, corp: 'c1', user: 'c' },
      ],
      [[{ corp: 1, user: 1 }], [{ 'follow.uid': 1 }]],
    );
    await query({ corp: 'c1' }, [4, 1, 2], { user: -1 });
    await query({ corp: 'c1', user: { $gte: 'b' } }, [1, 4]);
    await query({ 'follow.uid': 'u2' }, [1, 2]);
    await query({ 'follow.uid': { $exists: false } }, [3, 4]);
  });
});

describe('aggregate', () => {
  let Orders: Model<Document>;
  let Customers: Model<Document>;

  beforeAll(async () => {
    Orders = looseModel('orders');
    Customers = looseModel('customers');
    await nativeOf(Orders).insertMany([
      { _id: 1, customer: 'c1', item: 'apple', qty: 2, price: 3, at: new Date('2024-03-01T01:00:00Z') },
      { _id: 2, customer: 'c1', item: 'pear', qty: 1, price: 5, at: new Date('2024-03-01T17:00:00Z') },
      { _id: 3, customer: 'c2', item: 'apple', qty: 5, price: 3, at: new Date('2024-03-02T02:00:00Z') },
      { _id: 4, customer: 'c1', item: 'apple', qty: 1, price: 3, at: new Date('2024-03-03T15:59:00Z') },
      { _id: 5, customer: 'c3', item: 'melon', qty: 1, price: 12, at: new Date('2024-03-03T16:00:00Z') },
    ]);
    await nativeOf(Customers).insertMany([
      { _id: 'c1', name: 'Ann', tags: ['vip', 'new'] },
      { _id: 'c2', name: 'Bo', tags: [] },
      { _id: 'c3', name: 'Cy' },
      { _id: 'c4', name: 'Di', tags: 'solo' },
    ]);
  });

  it('$match + $sort + $group with $sum/$avg/$min/$max/$push/$addToSet/$first', async () => {
    const rows = await Orders.aggregate<Document>([
      { $match: { qty: { $gte: 1 } } },
      { $sort: { at: 1 } },
      {
        $group: {
          _id: '$customer',
          total: { $sum: { $multiply: ['$qty', '$price'] } },
          orders: { $sum: 1 },
          avgQty: { $avg: '$qty' },
          minPrice: { $min: '$price' },
          maxPrice: { $max: '$price' },
          items: { $push: '$item' },
          itemSet: { $addToSet: '$item' },
          firstItem: { $first: '$item' },
        },
      },
      { $sort: { _id: 1 } },
    ]);
    // $addToSet order is unspecified
    const normalised = rows.map((r) => ({ ...r, itemSet: sorted(r.itemSet as string[]) }));
    expect(normalised).toEqual([
      {
        _id: 'c1',
        total: 14,
        orders: 3,
        avgQty: 4 / 3,
        minPrice: 3,
        maxPrice: 5,
        items: ['apple', 'pear', 'apple'],
        itemSet: ['apple', 'pear'],
        firstItem: 'apple',
      },
      { _id: 'c2', total: 15, orders: 1, avgQty: 5, minPrice: 3, maxPrice: 3, items: ['apple'], itemSet: ['apple'], firstItem: 'apple' },
      { _id: 'c3', total: 12, orders: 1, avgQty: 1, minPrice: 12, maxPrice: 12, items: ['melon'], itemSet: ['melon'], firstItem: 'melon' },
    ]);
  });

  it('$group by null totals the whole collection', async () => {
    const rows = await Orders.aggregate<Document>([{ $group: { _id: null, qty: { $sum: '$qty' }, n: { $count: {} } } }]);
    expect(rows).toEqual([{ _id: null, qty: 10, n: 5 }]);
  });

  it('$project with computed fields and $addFields', async () => {
    const projected = await Orders.aggregate<Document>([
      { $match: { customer: 'c1' } },
      { $sort: { _id: 1 } },
      { $project: { _id: 0, item: 1, total: { $multiply: ['$qty', '$price'] }, upper: { $toUpper: '$item' } } },
    ]);
    expect(projected).toEqual([
      { item: 'apple', total: 6, upper: 'APPLE' },
      { item: 'pear', total: 5, upper: 'PEAR' },
      { item: 'apple', total: 3, upper: 'APPLE' },
    ]);
    const added = await Orders.aggregate<Document>([
      { $match: { _id: 5 } },
      { $addFields: { total: { $multiply: ['$qty', '$price'] }, 'meta.source': 'shop' } },
    ]);
    expect(added).toEqual([
      {
        _id: 5,
        customer: 'c3',
        item: 'melon',
        qty: 1,
        price: 12,
        at: new Date('2024-03-03T16:00:00Z'),
        total: 12,
        meta: { source: 'shop' },
      },
    ]);
  });

  it('$unwind, plain and with preserveNullAndEmptyArrays + includeArrayIndex', async () => {
    const plain = await Customers.aggregate<Document>([
      { $sort: { _id: 1 } },
      { $unwind: '$tags' },
      { $project: { tags: 1 } },
    ]);
    expect(plain).toEqual([
      { _id: 'c1', tags: 'vip' },
      { _id: 'c1', tags: 'new' },
      { _id: 'c4', tags: 'solo' },
    ]);
    const preserved = await Customers.aggregate<Document>([
      { $sort: { _id: 1 } },
      { $unwind: { path: '$tags', preserveNullAndEmptyArrays: true, includeArrayIndex: 'i' } },
      { $project: { name: 0 } },
    ]);
    expect(preserved).toEqual([
      { _id: 'c1', tags: 'vip', i: 0 },
      { _id: 'c1', tags: 'new', i: 1 },
      { _id: 'c2', i: null },
      { _id: 'c3', i: null },
      { _id: 'c4', tags: 'solo', i: null },
    ]);
  });

  it('$lookup joins in both directions', async () => {
    const perCustomer = await Customers.aggregate<Document>([
      { $lookup: { from: Orders.collection.collectionName, localField: '_id', foreignField: 'customer', as: 'orders' } },
      { $project: { n: { $size: '$orders' } } },
      { $sort: { _id: 1 } },
    ]);
    expect(perCustomer).toEqual([
      { _id: 'c1', n: 3 },
      { _id: 'c2', n: 1 },
      { _id: 'c3', n: 1 },
      { _id: 'c4', n: 0 },
    ]);
    const withName = await Orders.aggregate<Document>([
      { $lookup: { from: Customers.collection.collectionName, localField: 'customer', foreignField: '_id', as: 'cust' } },
      { $unwind: '$cust' },
      { $project: { name: '$cust.name' } },
      { $sort: { _id: 1 } },
    ]);
    expect(withName.map((r) => r.name)).toEqual(['Ann', 'Ann', 'Bo', 'Ann', 'Cy']);
  });

  it('$lookup with let + pipeline', async () => {
    const rows = await Customers.aggregate<Document>([
      { $match: { _id: 'c1' } },
      {
        $lookup: {
          from: Orders.collection.collectionName,
          let: { cid: '$_id' },
          pipeline: [
            { $match: { $expr: { $and: [{ $eq: ['$customer', '$$cid'] }, { $gte: ['$qty', 2] }] } } },
            { $project: { _id: 1 } },
          ],
          as: 'big',
        },
      },
    ]);
    expect(rows[0]?.big).toEqual([{ _id: 1 }]);
  });

  it('$count, including the empty case that yields no document', async () => {
    expect(await Orders.aggregate([{ $match: { item: 'apple' } }, { $count: 'n' }])).toEqual([{ n: 3 }]);
    expect(await Orders.aggregate([{ $match: { item: 'kiwi' } }, { $count: 'n' }])).toEqual([]);
  });

  it('$facet runs sub-pipelines over the same input', async () => {
    const rows = await Orders.aggregate<Document>([
      {
        $facet: {
          byItem: [{ $group: { _id: '$item', n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
          top: [{ $sort: { qty: -1 } }, { $limit: 1 }, { $project: { _id: 1 } }],
        },
      },
    ]);
    expect(rows).toEqual([
      {
        byItem: [
          { _id: 'apple', n: 3 },
          { _id: 'melon', n: 1 },
          { _id: 'pear', n: 1 },
        ],
        top: [{ _id: 3 }],
      },
    ]);
  });

  it('$skip and $limit page through sorted input', async () => {
    const rows = await Orders.aggregate<Document>([{ $sort: { _id: 1 } }, { $skip: 1 }, { $limit: 2 }, { $project: { _id: 1 } }]);
    expect(rows).toEqual([{ _id: 2 }, { _id: 3 }]);
  });

  it('date operators honour timezone Asia/Shanghai', async () => {
    const rows = await Orders.aggregate<Document>([
      { $sort: { _id: 1 } },
      {
        $project: {
          day: { $dateToString: { format: '%Y-%m-%d', date: '$at', timezone: 'Asia/Shanghai' } },
          clock: { $dateToString: { format: '%H:%M', date: '$at', timezone: 'Asia/Shanghai' } },
          utc: { $dateToString: { format: '%Y-%m-%dT%H:%M:%S', date: '$at' } },
          hour: { $hour: { date: '$at', timezone: 'Asia/Shanghai' } },
        },
      },
    ]);
    expect(rows).toEqual([
      { _id: 1, day: '2024-03-01', clock: '09:00', utc: '2024-03-01T01:00:00', hour: 9 },
      { _id: 2, day: '2024-03-02', clock: '01:00', utc: '2024-03-01T17:00:00', hour: 1 },
      { _id: 3, day: '2024-03-02', clock: '10:00', utc: '2024-03-02T02:00:00', hour: 10 },
      { _id: 4, day: '2024-03-03', clock: '23:59', utc: '2024-03-03T15:59:00', hour: 23 },
      { _id: 5, day: '2024-03-04', clock: '00:00', utc: '2024-03-03T16:00:00', hour: 0 },
    ]);
    const perDay = await Orders.aggregate<Document>([
      { $group: { _id: { $dateToString: { format: '%Y-%m-%d', date: '$at', timezone: 'Asia/Shanghai' } }, n: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ]);
    expect(perDay).toEqual([
      { _id: '2024-03-01', n: 1 },
      { _id: '2024-03-02', n: 2 },
      { _id: '2024-03-03', n: 1 },
      { _id: '2024-03-04', n: 1 },
    ]);
  });

  it('aggregate over more than 101 results streams through getMore', async () => {
    const coll = nativeCollection('aggmany');
    await coll.insertMany(Array.from({ length: 230 }, (_, i) => ({ i })));
    const rows = await coll.aggregate([{ $sort: { i: 1 } }, { $project: { _id: 0, i: 1 } }], { cursor: { batchSize: 50 } }).toArray();
    expect(rows.map((r) => r.i)).toEqual(Array.from({ length: 230 }, (_, i) => i));
  });
});

describe('server error shapes', () => {
  it('conflicting update paths → code 40', async () => {
    const coll = nativeCollection('conflict');
    await coll.insertOne({ _id: 1, a: 1 });
    const err = await errorOf(coll.updateOne({ _id: 1 }, { $set: { a: 5 }, $inc: { a: 1 } }));
    expect(err.code).toBe(40);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1 });
  });

  it('modifying _id with $set or a replacement → code 66', async () => {
    const coll = nativeCollection('immutable');
    await coll.insertOne({ _id: 1, a: 1 });
    expect((await errorOf(coll.updateOne({ _id: 1 }, { $set: { _id: 2 } }))).code).toBe(66);
    expect((await errorOf(coll.replaceOne({ _id: 1 }, { _id: 2, a: 2 }))).code).toBe(66);
    expect(await coll.find().toArray()).toEqual([{ _id: 1, a: 1 }]);
  });

  it('an array _id → code 53 (InvalidIdField); an object holding an array is fine', async () => {
    const coll = nativeCollection('arrayid');
    expect((await errorOf(coll.insertOne({ _id: [1, 2] as never, a: 1 }))).code).toBe(53);
    expect((await errorOf(coll.insertOne({ _id: [1] as never, a: 1 }))).code).toBe(53);
    await coll.insertOne({ _id: { compound: [1, 2] } as never, a: 2 });
    expect(await coll.find().toArray()).toEqual([{ _id: { compound: [1, 2] }, a: 2 }]);
  });

  it('$inc on a string → code 14 (TypeMismatch)', async () => {
    const coll = nativeCollection('incstring');
    await coll.insertOne({ _id: 1, a: 'text' });
    const err = await errorOf(coll.updateOne({ _id: 1 }, { $inc: { a: 1 } }));
    expect(err.code).toBe(14);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, a: 'text' });
  });

  it('collections appear in listCollections and disappear after drop', async () => {
    const name = fresh('lifecycle');
    await t.conn.createCollection(name);
    const names = async () => (await t.conn.listCollections()).map((c) => c.name);
    expect(await names()).toContain(name);
    expect(await t.conn.dropCollection(name)).toBe(true);
    expect(await names()).not.toContain(name);
  });

  it('createCollection over an existing collection with different options → code 48', async () => {
    // MongoDB ≥ 7.1 accepts a repeat create with *identical* options; differing options fail everywhere.
    const name = fresh('createtwice');
    await t.conn.createCollection(name);
    const err = await errorOf(t.conn.createCollection(name, { capped: true, size: 4096 }));
    expect(err.code).toBe(48);
    expect(err.codeName).toBe('NamespaceExists');
  });

  it('a transaction on a standalone server is rejected with code 20', async () => {
    const Note = model('txn', new Schema({ text: String }));
    await Note.init();
    const session = await t.conn.startSession();
    try {
      // The driver (≥ 4.x) rewraps *any* code-20 write error as "does not support retryable writes",
      // keeping the server's answer in `originalError`; reads surface the server error as is.
      const writeErr = await errorOf(
        session.withTransaction(async () => {
          await Note.create([{ text: 'inside' }], { session });
        }),
      );
      const original = (writeErr as StoreError & { originalError?: StoreError }).originalError;
      expect(original?.code).toBe(20);
      expect(original?.codeName).toBe('IllegalOperation');
      expect(original?.message).toContain('Transaction numbers');

      session.startTransaction();
      const readErr = await errorOf(Note.find({}).session(session));
      expect(readErr.code).toBe(20);
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    expect(await Note.countDocuments()).toBe(0);
  });

  it('a change stream (Model.watch) on a standalone server is rejected with code 40573', async () => {
    const Note = model('watch', new Schema({ text: String }));
    await Note.init();
    const stream = Note.watch();
    try {
      const err = await errorOf(stream.next());
      expect(err.code).toBe(40573);
    } finally {
      await stream.close();
    }
  });

  it('unknown query, update and pipeline operators are errors, not empty answers', async () => {
    const coll = nativeCollection('unknownop');
    await coll.insertOne({ _id: 1, a: 1 });
    const fieldOp = await errorOf(coll.find({ a: { $foo: 1 } }).toArray());
    expect(fieldOp.code).toBe(2);
    expect(fieldOp.message).toContain('$foo');
    expect((await errorOf(coll.find({ $foo: [{ a: 1 }] }).toArray())).code).toBe(2);
    expect((await errorOf(coll.updateOne({ _id: 1 }, { $foo: { a: 2 } }))).code).toBe(9);
    expect((await errorOf(coll.aggregate([{ $foo: {} }]).toArray())).code).toBe(40324);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1 });
  });
});

describe('type fidelity', () => {
  const oid = new ObjectId('65a1b2c3d4e5f60718293a4b');
  const when = new Date('2024-02-29T12:34:56.789Z');
  const uuid = new UUID('0e6f3b2c-7d4a-4f1e-9b8c-1a2b3c4d5e6f');
  let coll: Collection<Row>;

  beforeAll(async () => {
    coll = nativeCollection('types');
    await coll.insertMany([
      { _id: 'int', v: new Int32(7) },
      { _id: 'plainInt', v: 42 },
      { _id: 'long', v: Long.fromString('9007199254740993') },
      { _id: 'double', v: new Double(1) },
      { _id: 'plainFloat', v: 2.5 },
      { _id: 'decimal', v: Decimal128.fromString('1.10') },
      { _id: 'oid', v: oid },
      { _id: 'date', v: when },
      { _id: 'bin', v: new Binary(Buffer.from([1, 2, 3])) },
      { _id: 'uuid', v: uuid },
      { _id: 'str', v: 'hello' },
      { _id: 'bool', v: true },
      { _id: 'null', v: null },
      { _id: 'missing' },
      { _id: 'arr', v: [1, 'x'] },
      { _id: 'obj', v: { x: 1 } },
    ]);
  });

  const typeCases: Array<[string | number | string[], string[]]> = [
    // an array field matches $type when any element does
    ['int', ['arr', 'int', 'plainInt']],
    ['long', ['long']],
    ['double', ['double', 'plainFloat']],
    ['decimal', ['decimal']],
    ['number', ['arr', 'decimal', 'double', 'int', 'long', 'plainFloat', 'plainInt']],
    ['null', ['null']],
    ['objectId', ['oid']],
    ['date', ['date']],
    ['string', ['arr', 'str']],
    ['array', ['arr']],
    ['binData', ['bin', 'uuid']],
    ['bool', ['bool']],
    ['object', ['obj']],
    [16, ['arr', 'int', 'plainInt']],
    [['long', 'decimal'], ['decimal', 'long']],
  ];

  it.each(typeCases)('$type %j', async (type, expected) => {
    expect(await idsOf(coll, { v: { $type: type } })).toEqual(expected);
  });

  it('{v: null} matches null and missing; $exists:false only missing; $ne:null neither', async () => {
    expect(await idsOf(coll, { v: null })).toEqual(['missing', 'null']);
    expect(await idsOf(coll, { v: { $exists: false } })).toEqual(['missing']);
    const notNull = await idsOf(coll, { v: { $ne: null } });
    expect(notNull).toHaveLength(14);
    expect(notNull).not.toContain('null');
    expect(notNull).not.toContain('missing');
  });

  it('numeric equality crosses BSON numeric types', async () => {
    expect(await idsOf(coll, { v: 1 })).toEqual(['arr', 'double']);
    expect(await idsOf(coll, { v: Long.fromNumber(7) })).toEqual(['int']);
    expect(await idsOf(coll, { v: new Double(42) })).toEqual(['plainInt']);
    expect(await idsOf(coll, { v: Decimal128.fromString('1.1') })).toEqual(['decimal']);
    expect(await idsOf(coll, { v: { $gt: 2, $lt: 10 } })).toEqual(['int', 'plainFloat']);
  });

  it('values round-trip with their BSON wrapper types when promoteValues is off', async () => {
    const raw = new Map(
      (await coll.find({}, { promoteValues: false }).toArray()).map((d) => [d._id as unknown, d.v as unknown]),
    );
    expect(raw.get('int')).toBeInstanceOf(Int32);
    expect((raw.get('int') as Int32).value).toBe(7);
    expect(raw.get('plainInt')).toBeInstanceOf(Int32);
    expect(raw.get('long')).toBeInstanceOf(Long);
    expect((raw.get('long') as Long).toString()).toBe('9007199254740993');
    expect(raw.get('double')).toBeInstanceOf(Double);
    expect((raw.get('double') as Double).value).toBe(1);
    expect(raw.get('plainFloat')).toBeInstanceOf(Double);
    expect((raw.get('decimal') as Decimal128).toString()).toBe('1.10');
  });

  it('default promotion: numbers, bigint on request, ObjectId, Date, Binary and UUID', async () => {
    const get = async (id: string, opts: Document = {}) => (await coll.findOne({ _id: id }, opts))?.v as unknown;
    expect(await get('int')).toBe(7);
    expect(await get('double')).toBe(1);
    expect(await get('long', { useBigInt64: true })).toBe(9007199254740993n);
    expect(await get('decimal')).toBeInstanceOf(Decimal128);
    expect((await get('oid')) as ObjectId).toEqual(oid);
    expect(await get('date')).toEqual(when);
    const bin = (await get('bin')) as Binary;
    expect(bin).toBeInstanceOf(Binary);
    expect(bin.sub_type).toBe(0);
    expect([...bin.buffer]).toEqual([1, 2, 3]);
    const storedUuid = (await get('uuid')) as Binary;
    expect(storedUuid.sub_type).toBe(Binary.SUBTYPE_UUID);
    expect(storedUuid.toUUID().toHexString()).toBe(uuid.toHexString());
    expect(await idsOf(coll, { v: uuid })).toEqual(['uuid']);
    expect(await idsOf(coll, { v: oid })).toEqual(['oid']);
    expect(await idsOf(coll, { v: new Date(when.getTime()) })).toEqual(['date']);
  });

  it('sort across mixed types follows BSON comparison order (null == missing)', async () => {
    const mixed = nativeCollection('mixedsort');
    await mixed.insertMany([
      { _id: 1, v: 'b' },
      { _id: 2, v: 5 },
      { _id: 3 },
      { _id: 4, v: null },
      { _id: 5, v: oid },
      { _id: 6, v: true },
      { _id: 7, v: when },
      { _id: 8, v: { x: 1 } },
      { _id: 9, v: new Double(2.5) },
      { _id: 10, v: Long.fromNumber(3) },
      { _id: 11, v: Decimal128.fromString('1.5') },
      { _id: 12, v: 'a' },
      { _id: 13, v: new Binary(Buffer.from([9])) },
      { _id: 14, v: false },
      { _id: 15, v: new MinKey() },
      { _id: 16, v: new MaxKey() },
    ]);
    // MinKey < null/missing < numbers < strings < objects < binData < ObjectId < bool < Date < MaxKey
    expect(await idsOf(mixed, {}, { v: 1, _id: 1 })).toEqual([15, 3, 4, 11, 9, 10, 2, 12, 1, 8, 13, 5, 14, 6, 7, 16]);
    expect(await idsOf(mixed, {}, { v: -1, _id: 1 })).toEqual([16, 7, 6, 14, 5, 13, 8, 1, 12, 2, 10, 9, 11, 3, 4, 15]);
  });

  it('mongoose Int32/Double/BigInt/Decimal128/UUID/Buffer paths are stored as the matching BSON types', async () => {
    const Typed = model(
      'mtypes',
      new Schema(
        {
          i: Schema.Types.Int32,
          d: Schema.Types.Double,
          big: Schema.Types.BigInt,
          dec: Schema.Types.Decimal128,
          u: Schema.Types.UUID,
          buf: Buffer,
          at: Date,
          ref: Schema.Types.ObjectId,
        },
        { versionKey: false },
      ),
    );
    const { _id } = await Typed.create({
      i: 7,
      d: 1,
      big: 9007199254740993n,
      dec: '1.10',
      u: uuid.toHexString(),
      buf: Buffer.from([4, 5]),
      at: when,
      ref: oid,
    });
    const typeOf = async (path: string, type: string) => nativeOf(Typed).countDocuments({ _id, [path]: { $type: type } });
    expect(await typeOf('i', 'int')).toBe(1);
    expect(await typeOf('d', 'double')).toBe(1);
    expect(await typeOf('big', 'long')).toBe(1);
    expect(await typeOf('dec', 'decimal')).toBe(1);
    expect(await typeOf('u', 'binData')).toBe(1);
    expect(await typeOf('buf', 'binData')).toBe(1);
    expect(await typeOf('at', 'date')).toBe(1);
    expect(await typeOf('ref', 'objectId')).toBe(1);
    const doc = await Typed.findById(_id).orFail();
    expect(doc.i).toBe(7);
    expect(Number(doc.d)).toBe(1);
    expect(doc.dec?.toString()).toBe('1.10');
    expect(String(doc.u)).toBe(uuid.toHexString());
    expect(doc.at).toEqual(when);
    expect(doc.ref?.equals(oid)).toBe(true);
  });
});

describe('TTL', () => {
  // The real TTL monitor runs every 60 s, so against MongoDB the wait covers two passes.
  const waitMs = targetKind === 'mongodb' ? 130_000 : 65_000;

  it(
    `an expireAfterSeconds: 0 index removes past-dated docs and keeps future ones (waits ≤ ${waitMs / 1000} s on ${targetKind})`,
    async () => {
      const coll = nativeCollection('ttl');
      await coll.createIndex({ expireAt: 1 }, { expireAfterSeconds: 0 });
      const ix = (await coll.listIndexes().toArray()).find((i) => i.name === 'expireAt_1');
      expect(ix?.expireAfterSeconds).toBe(0);
      await coll.insertMany([
        { _id: 'old', expireAt: new Date(Date.now() - 60_000) },
        { _id: 'future', expireAt: new Date(Date.now() + 3_600_000) },
        { _id: 'no-date', expireAt: 'not a date' },
      ]);
      const deadline = Date.now() + waitMs;
      while ((await coll.countDocuments({ _id: 'old' })) > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(await idsOf(coll, {})).toEqual(['future', 'no-date']);
    },
    waitMs + 15_000,
  );
});

// Durability needs the engine's own process and files, which a remote MongoDB cannot give us.
if (targetKind === 'embedded') {
  describe('durability (embedded target only)', () => {
    const durableSchema = () =>
      new Schema({ seq: { type: Number, unique: true }, payload: String }, { versionKey: false, autoIndex: false, autoCreate: false });

    async function withEmbedded<T>(dbPath: string, work: (conn: Connection) => Promise<T>): Promise<T> {
      const server = await startEmbedded({ dbPath });
      const conn = await connect(server.uri, CRASH_DB);
      try {
        return await work(conn);
      } finally {
        await conn.close();
        await server.close();
      }
    }

    /** Reopened models must not call init(), or autoIndex would rebuild a lost index and hide the bug. */
    const reopen = (conn: Connection) => conn.model('Durable', durableSchema(), 'durable');

    it('data and unique indexes survive close and restart on the same dbPath', async () => {
      const dir = await makeTempDir('restart');
      try {
        await withEmbedded(dir, async (conn) => {
          const Durable = reopen(conn);
          await Durable.syncIndexes();
          await Durable.insertMany(Array.from({ length: 100 }, (_, seq) => ({ seq, payload: `p${seq}` })));
          await Durable.updateOne({ seq: 5 }, { $set: { payload: 'changed' } });
          await Durable.deleteOne({ seq: 7 });
        });

        await withEmbedded(dir, async (conn) => {
          const Durable = reopen(conn);
          expect(await Durable.countDocuments()).toBe(99);
          expect((await Durable.findOne({ seq: 5 }).lean())?.payload).toBe('changed');
          expect(await Durable.exists({ seq: 7 })).toBeNull();
          const ix = (await Durable.listIndexes()).find((i) => i.name === 'seq_1');
          expect(ix).toMatchObject({ key: { seq: 1 }, unique: true });
          const err = await errorOf(Durable.create({ seq: 1, payload: 'dup' }));
          expect(err.code).toBe(11000);
          await Durable.create({ seq: 1000, payload: 'after-restart' });
        });

        // a third start proves writes made after a recovery are themselves recoverable
        await withEmbedded(dir, async (conn) => {
          const Durable = reopen(conn);
          expect(await Durable.countDocuments()).toBe(100);
          expect((await Durable.findOne({ seq: 1000 }).lean())?.payload).toBe('after-restart');
        });
      } finally {
        await removeDir(dir);
      }
    });

    it('every write acknowledged before a SIGKILL is present after restart', async () => {
      const dir = await makeTempDir('crash');
      const fixture = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
      const killAfterAcks = 400;
      try {
        // `node --import tsx` keeps the writer in this one process; `npx tsx` would put a wrapper
        // process in between and the SIGKILL would miss the writer.
        const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        const acked = new Set<number>();
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        const lines = createInterface({ input: child.stdout });
        // registered up front: stdout may close before or after 'exit'
        const drained = new Promise<void>((resolve) => lines.once('close', () => resolve()));
        lines.on('line', (line) => {
          const m = /^ACK (\d+)$/.exec(line);
          if (!m) return;
          acked.add(Number(m[1]));
          if (acked.size === killAfterAcks) child.kill('SIGKILL');
        });
        const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
          child.on('exit', (code, signal) => resolve({ code, signal }));
        });
        await drained;
        expect(exit.signal, `writer ended on its own (code ${exit.code}); stderr:\n${stderr}`).toBe('SIGKILL');
        expect(acked.size).toBeGreaterThanOrEqual(killAfterAcks);

        await withEmbedded(dir, async (conn) => {
          const docs = await nativeDb(conn).collection(CRASH_COLLECTION).find({}, { projection: { _id: 0 } }).toArray();
          const present = new Set(docs.map((d) => d.seq as number));
          const lost = [...acked].filter((seq) => !present.has(seq));
          expect(lost).toEqual([]);
          // no torn documents: whatever was recovered is whole
          for (const d of docs) expect(d.payload).toBe(crashPayload(d.seq as number));
        });
      } finally {
        await removeDir(dir);
      }
    }, 90_000);
  });
}
