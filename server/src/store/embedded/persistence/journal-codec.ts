/**
 * Journal record payload: `{ seq: Long, part: int32, last: bool, ops: JournalOp[] }`.
 * A batch normally fits one record (part 0, last true); a huge batch is split into consecutive
 * records sharing its seq, and recovery applies it only once the `last` part is seen.
 */
import { BSON, Long } from 'bson';
import type { JournalOp } from './contract.ts';
import {
  decodeIndex,
  deserialize,
  expectDocument,
  expectString,
  frameDocumentWithArray,
  toLong,
  toNumber,
} from './bson-codec.ts';

/** Split threshold; well under BSON's 16 MiB so one record never needs an oversized buffer. */
const TARGET_RECORD_PAYLOAD_BYTES = 4 * 1024 * 1024;

export interface JournalRecord {
  seq: number;
  part: number;
  last: boolean;
  ops: JournalOp[];
}

/** Serialises the ops first so an unserialisable op rejects the whole batch before anything is written. */
export function serializeOps(ops: readonly JournalOp[]): Uint8Array[] {
  return ops.map((op) => (op.op === 'put' && op.doc instanceof Uint8Array ? serializePut(op.db, op.coll, op.doc) : BSON.serialize(op)));
}

/** `{ op: 'put', db, coll, doc }` around a document that is already BSON, as BSON.serialize would lay it out. */
function serializePut(db: string, coll: string, doc: Uint8Array): Buffer {
  const head = putHead(db, coll);
  const size = 4 + head.length + 1 + 4 + doc.length + 1;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32LE(size, 0);
  out.set(head, 4);
  let at = 4 + head.length;
  out[at++] = 0x03; // embedded document
  at += out.write('doc', at, 'latin1');
  out[at++] = 0;
  out.set(doc, at);
  out[size - 1] = 0;
  return out;
}

const putHeads = new Map<string, Uint8Array>();

/** The op/db/coll elements of a put, cached per namespace: inserts come in long runs on one collection. */
function putHead(db: string, coll: string): Uint8Array {
  const key = `${db}.${coll}`;
  let head = putHeads.get(key);
  if (!head) {
    const bytes = BSON.serialize({ op: 'put', db, coll });
    head = bytes.subarray(4, bytes.length - 1);
    if (putHeads.size >= 1024) putHeads.clear();
    putHeads.set(key, head);
  }
  return head;
}

export function encodeBatch(seq: number, serializedOps: readonly Uint8Array[]): Buffer[] {
  const parts: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let size = 0;
  for (const op of serializedOps) {
    if (current.length > 0 && size + op.length > TARGET_RECORD_PAYLOAD_BYTES) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(op);
    size += op.length;
  }
  parts.push(current);
  const seqLong = toLong(seq);
  return parts.map((ops, part) =>
    frameDocumentWithArray({ seq: seqLong, part, last: part === parts.length - 1 }, 'ops', ops),
  );
}

/** Throws on anything that is not a well-formed record payload; recovery treats that as a torn tail. */
export function decodeRecord(payload: Uint8Array): JournalRecord {
  const raw = deserialize(payload, { ops: true });
  if (!(raw.seq instanceof Long)) throw new Error('record seq is not a Long');
  if (typeof raw.last !== 'boolean') throw new Error('record last flag is not a boolean');
  if (!Array.isArray(raw.ops)) throw new Error('record ops is not an array');
  return {
    seq: raw.seq.toNumber(),
    part: toNumber(raw.part, 'record part'),
    last: raw.last,
    ops: raw.ops.map(decodeOp),
  };
}

/** A put's document stays BSON (copied out of the record); every other op is decoded whole. */
function decodeOp(value: unknown): JournalOp {
  if (!(value instanceof Uint8Array)) throw new Error('journal op is not a document');
  const head = deserialize(value, 'nested');
  if (head.op === 'put') {
    if (!(head.doc instanceof Uint8Array)) throw new Error('put doc is not a document');
    return { op: 'put', db: expectString(head.db, 'op db'), coll: expectString(head.coll, 'op coll'), doc: Buffer.from(head.doc) };
  }
  const raw = deserialize(value);
  const db = expectString(raw.db, 'op db');
  switch (raw.op) {
    case 'del':
      // `id` is whatever _id value the engine used, kept with its exact BSON type.
      return { op: 'del', db, coll: expectString(raw.coll, 'op coll'), id: raw.id };
    case 'createCollection':
      return { op: 'createCollection', db, coll: expectString(raw.coll, 'op coll'), options: expectDocument(raw.options, 'collection options') };
    case 'dropCollection':
      return { op: 'dropCollection', db, coll: expectString(raw.coll, 'op coll') };
    case 'dropDatabase':
      return { op: 'dropDatabase', db };
    case 'createIndex':
      return { op: 'createIndex', db, coll: expectString(raw.coll, 'op coll'), index: decodeIndex(raw.index) };
    case 'dropIndex':
      return { op: 'dropIndex', db, coll: expectString(raw.coll, 'op coll'), name: expectString(raw.name, 'index name') };
    default:
      throw new Error(`unknown journal op ${String(raw.op)}`);
  }
}
