import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { groupByContact, type BuiltFacts, type OrderRow, type Relation } from './facts.ts';

/** The mirror's rows as of `watermark`: every write that reached the store before it is in them. */
export interface MirrorState {
  /** Keyed `${externalUserId}\u0000${userId}`, as the mirror keys them. */
  relations: Map<string, Relation>;
  /** Keyed by orderId. */
  orders: Map<string, OrderRow>;
  watermark: number;
}

/** A snapshot as read back: its facts ready to answer from, its rows decoded only when asked. */
export interface LoadedSnapshot {
  watermark: number;
  head: SnapshotHead;
  built: BuiltFacts;
  rows(): Pick<MirrorState, 'relations' | 'orders'>;
}

/** What the head document says about the snapshot every instance starts from. */
export interface SnapshotHead {
  generation: string;
  watermark: number;
  savedAt: number;
  chunks: number;
  bytes: number;
  relations: number;
  orders: number;
}

interface HeadDoc {
  _id: 'head';
  generation: string;
  watermark: Date;
  savedAt: Date;
  chunks: number;
  bytes: number;
  relations: number;
  orders: number;
}

interface ChunkDoc {
  _id: string;
  generation: string;
  n: number;
  savedAt: Date;
  data: mongoose.mongo.Binary;
}

export const SNAPSHOT_COLLECTION = 'analytics_snapshots';
/** Well below the 16 MB document (and wire message) limit, so a chunk never meets it. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
const FORMAT = 2;

/**
 * The analytics mirror persisted in the store, so an instance starts from it and reads only rows
 * changed after its watermark instead of all of them. Columnar: the ids once each in a string table,
 * every other field in a typed array (37 bytes per relation, 24 per order and 28 per contact, plus
 * the id text), the whole split into chunks. A save writes a new generation, then points the head at it, then
 * drops older generations: a reader never sees a half-written snapshot, and one that raced a
 * save just reads the head again.
 */
export class FactsSnapshots {
  private readonly heads: mongoose.mongo.Collection<HeadDoc>;
  private readonly chunks: mongoose.mongo.Collection<ChunkDoc>;

  constructor(db: mongoose.Connection, private readonly chunkBytes = CHUNK_BYTES) {
    // Through the driver: no casting or hydration of megabyte buffers.
    this.heads = db.collection<HeadDoc>(SNAPSHOT_COLLECTION) as unknown as mongoose.mongo.Collection<HeadDoc>;
    this.chunks = db.collection<ChunkDoc>(SNAPSHOT_COLLECTION) as unknown as mongoose.mongo.Collection<ChunkDoc>;
  }

  async head(): Promise<SnapshotHead | null> {
    const doc = await this.heads.findOne({ _id: 'head' });
    return doc ? { ...doc, watermark: doc.watermark.getTime(), savedAt: doc.savedAt.getTime() } : null;
  }

  async save(state: MirrorState & { built: BuiltFacts }): Promise<SnapshotHead> {
    const bytes = encode(state);
    const generation = randomUUID();
    const savedAt = new Date();
    let n = 0;
    for (let at = 0; at < bytes.length || n === 0; at += this.chunkBytes, n++) {
      const data = new mongoose.mongo.Binary(bytes.subarray(at, Math.min(at + this.chunkBytes, bytes.length)));
      await this.chunks.insertOne({ _id: `${generation}:${n}`, generation, n, savedAt, data });
    }
    const head: HeadDoc = { _id: 'head', generation, watermark: new Date(state.watermark), savedAt, chunks: n, bytes: bytes.length, relations: state.relations.size, orders: state.orders.size };
    await this.heads.replaceOne({ _id: 'head' }, head, { upsert: true });
    // Only older ones: a newer generation written meanwhile by the next lease holder stays.
    await this.chunks.deleteMany({ _id: { $ne: 'head' }, savedAt: { $lt: savedAt } });
    return { ...head, watermark: state.watermark, savedAt: savedAt.getTime() };
  }

  /** The latest snapshot, or null when there is none (or it could not be read whole twice in a row). */
  async load(): Promise<LoadedSnapshot | null> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const head = await this.head();
      if (!head) return null;
      const docs = await this.chunks.find({ _id: { $ne: 'head' }, generation: head.generation }).sort({ n: 1 }).toArray();
      const parts = docs.map((d) => Buffer.from(d.data.buffer));
      const bytes = Buffer.concat(parts);
      // Dropped by a newer save while we read: the head points at that one now.
      if (docs.length !== head.chunks || bytes.length !== head.bytes) continue;
      return { ...decode(bytes), watermark: head.watermark, head };
    }
    return null;
  }
}

/**
 * Layout: u32 header length, header JSON, the string tables as JSON, then the columns in `columns`
 * order. The contact table starts with the built facts' contacts in their order, so the orders'
 * contact column serves both the rows and the built facts; the facts' own columns (28 bytes per
 * contact, 4 per order) spare a loading instance the build.
 */
function encode(state: MirrorState & { built: BuiltFacts }): Buffer {
  const ids = new Map<string, number>();
  const users = new Map<string, number>();
  const states = new Map<string, number>();
  const intern = (table: Map<string, number>, value: string) => {
    let i = table.get(value);
    if (i === undefined) table.set(value, (i = table.size));
    return i;
  };
  const { facts, orders: built } = state.built;
  for (const id of facts.ids) intern(ids, id);
  const factState = Int32Array.from(facts.state, (s) => (s === null || s === undefined ? -1 : intern(states, s)));
  const r = state.relations.size;
  const relContact = new Int32Array(r);
  const relUser = new Int32Array(r);
  const relState = new Int32Array(r);
  const relLost = new Uint8Array(r);
  const enteredAt = new Float64Array(r);
  const addedAt = new Float64Array(r);
  const removedAt = new Float64Array(r);
  let i = 0;
  for (const [key, relation] of state.relations) {
    relContact[i] = intern(ids, relation.externalUserId);
    relUser[i] = intern(users, key.slice(relation.externalUserId.length + 1));
    relState[i] = relation.state === null ? -1 : intern(states, relation.state);
    relLost[i] = relation.lost ? 1 : 0;
    enteredAt[i] = relation.enteredAt;
    addedAt[i] = relation.addedAt;
    removedAt[i] = relation.removedAt;
    i++;
  }
  const o = state.orders.size;
  const orderIds: string[] = new Array(o);
  const orderContact = new Int32Array(o);
  const amountFen = new Float64Array(o);
  const paidAt = new Float64Array(o);
  i = 0;
  for (const [orderId, order] of state.orders) {
    orderIds[i] = orderId;
    orderContact[i] = intern(ids, order.externalUserId);
    amountFen[i] = order.amountFen;
    paidAt[i] = order.paidAt;
    i++;
  }
  const strings = Buffer.from(JSON.stringify([[...ids.keys()], [...users.keys()], [...states.keys()], orderIds]));
  const columns = [strings, relContact, relUser, relState, relLost, enteredAt, addedAt, removedAt, orderContact, amountFen, paidAt, factState, facts.enteredAt, facts.addedAt, facts.removedAt, built.byPaidAt];
  const header = Buffer.from(JSON.stringify({ format: FORMAT, relations: r, orders: o, contacts: facts.ids.length, lengths: columns.map((c) => c.byteLength) }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  return Buffer.concat([length, header, ...columns.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength))]);
}

function decode(bytes: Buffer): Pick<LoadedSnapshot, 'built' | 'rows'> {
  const headerLength = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as { format: number; relations: number; orders: number; contacts: number; lengths: number[] };
  if (header.format !== FORMAT) throw new Error(`analytics snapshot format ${header.format} is not ${FORMAT}`);
  let at = 4 + headerLength;
  const next = () => {
    const length = header.lengths.shift()!;
    const part = bytes.subarray(at, (at += length));
    // Copied out: the chunks' buffer gives no alignment guarantee for typed-array views.
    const copy = new ArrayBuffer(length);
    new Uint8Array(copy).set(part);
    return copy;
  };
  const [ids, users, states, orderIds] = JSON.parse(Buffer.from(next()).toString('utf8')) as [string[], string[], string[], string[]];
  const relContact = new Int32Array(next());
  const relUser = new Int32Array(next());
  const relState = new Int32Array(next());
  const relLost = new Uint8Array(next());
  const enteredAt = new Float64Array(next());
  const addedAt = new Float64Array(next());
  const removedAt = new Float64Array(next());
  const orderContact = new Int32Array(next());
  const amountFen = new Float64Array(next());
  const paidAt = new Float64Array(next());
  const factState = new Int32Array(next());
  const facts = {
    ids: ids.slice(0, header.contacts),
    state: Array.from(factState, (s) => (s < 0 ? null : states[s]!)),
    enteredAt: new Float64Array(next()),
    addedAt: new Float64Array(next()),
    removedAt: new Float64Array(next()),
  };
  const built: BuiltFacts = { facts, orders: { contact: orderContact, amountFen, paidAt, byPaidAt: new Int32Array(next()), ...groupByContact(orderContact, header.contacts) } };
  return { built, rows: () => rows({ ids, users, states, orderIds, relContact, relUser, relState, relLost, enteredAt, addedAt, removedAt, orderContact, amountFen, paidAt }) };
}

interface Columns {
  ids: string[];
  users: string[];
  states: string[];
  orderIds: string[];
  relContact: Int32Array;
  relUser: Int32Array;
  relState: Int32Array;
  relLost: Uint8Array;
  enteredAt: Float64Array;
  addedAt: Float64Array;
  removedAt: Float64Array;
  orderContact: Int32Array;
  amountFen: Float64Array;
  paidAt: Float64Array;
}

function rows({ ids, users, states, orderIds, relContact, relUser, relState, relLost, enteredAt, addedAt, removedAt, orderContact, amountFen, paidAt }: Columns): Pick<MirrorState, 'relations' | 'orders'> {
  const relations = new Map<string, Relation>();
  for (let i = 0; i < relContact.length; i++) {
    const externalUserId = ids[relContact[i]!]!;
    relations.set(`${externalUserId}\u0000${users[relUser[i]!]!}`, {
      externalUserId,
      state: relState[i]! < 0 ? null : states[relState[i]!]!,
      lost: relLost[i] === 1,
      enteredAt: enteredAt[i]!,
      addedAt: addedAt[i]!,
      removedAt: removedAt[i]!,
    });
  }
  const orders = new Map<string, OrderRow>();
  for (let i = 0; i < orderIds.length; i++) orders.set(orderIds[i]!, { externalUserId: ids[orderContact[i]!]!, amountFen: amountFen[i]!, paidAt: paidAt[i]! });
  return { relations, orders };
}
