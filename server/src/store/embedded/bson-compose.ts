/**
 * BSON documents assembled around parts that are already serialised (stored documents, journaled
 * ops), laid out exactly as BSON.serialize would lay out the whole, so those parts are never
 * decoded and encoded again.
 */
import { BSON } from 'bson';
import type { Document, Long } from 'bson';

const TYPE = { double: 0x01, string: 0x02, document: 0x03, array: 0x04, int64: 0x12 } as const;

/** A BSON array (keys "0", "1", ...) whose elements are the given serialised documents. */
export function arrayOfDocuments(docs: readonly Uint8Array[]): Buffer {
  const size = arraySize(docs);
  const out = Buffer.allocUnsafe(size);
  writeArray(out, 0, size, docs);
  return out;
}

function arraySize(docs: readonly Uint8Array[]): number {
  let size = 4 + 1;
  for (let i = 0; i < docs.length; i++) size += 1 + decimalDigits(i) + 1 + (docs[i] as Uint8Array).length;
  return size;
}

function writeArray(out: Buffer, start: number, size: number, docs: readonly Uint8Array[]): number {
  let at = out.writeInt32LE(size, start);
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i] as Uint8Array;
    out[at++] = TYPE.document;
    at += out.write(String(i), at, 'latin1');
    out[at++] = 0;
    out.set(doc, at);
    at += doc.length;
  }
  out[at++] = 0;
  return at;
}

/**
 * mongod's cursor reply `{ cursor: { [batchField]: docs, id, ns }, ok: 1.0 }` after `reserve` bytes.
 * Written out by hand because it runs for every find and getMore, where serialising even the small
 * envelope through BSON.serialize cost as much as the stored document it carries.
 */
export function cursorReply(batchField: 'firstBatch' | 'nextBatch', docs: readonly Uint8Array[], id: Long, ns: string, reserve: number): Buffer {
  const batchBytes = arraySize(docs);
  const nsBytes = Buffer.byteLength(ns, 'utf8');
  const cursorSize = 4 + (1 + batchField.length + 1 + batchBytes) + (1 + 3 + 8) + (1 + 3 + 4 + nsBytes + 1) + 1;
  const size = 4 + (1 + 7 + cursorSize) + (1 + 3 + 8) + 1;
  const out = Buffer.allocUnsafe(reserve + size);
  let at = out.writeInt32LE(size, reserve);
  at = writeName(out, at, TYPE.document, 'cursor');
  at = out.writeInt32LE(cursorSize, at);
  at = writeName(out, at, TYPE.array, batchField);
  at = writeArray(out, at, batchBytes, docs);
  at = writeName(out, at, TYPE.int64, 'id');
  at = out.writeBigInt64LE(id.toBigInt(), at);
  at = writeName(out, at, TYPE.string, 'ns');
  at = out.writeInt32LE(nsBytes + 1, at);
  at += out.write(ns, at, 'utf8');
  out[at++] = 0;
  out[at++] = 0; // end of cursor
  at = writeName(out, at, TYPE.double, 'ok');
  at = out.writeDoubleLE(1, at);
  out[at] = 0;
  return out;
}

/** Type byte and an ASCII element name. */
function writeName(out: Buffer, at: number, type: number, name: string): number {
  out[at++] = type;
  at += out.write(name, at, 'latin1');
  out[at++] = 0;
  return at;
}

/**
 * `{ ...head, [key]: value }` where `value` is an already serialised document or array. `reserve`
 * leaves that many bytes in front of the document (a frame or message header) so the caller need
 * not copy it again.
 */
export function withEmbedded(head: Document, key: string, value: Uint8Array, type: keyof typeof TYPE, reserve = 0): Buffer {
  const headBytes = BSON.serialize(head);
  const headBody = headBytes.subarray(4, headBytes.length - 1);
  const keyBytes = Buffer.from(key, 'utf8');
  const size = 4 + headBody.length + 1 + keyBytes.length + 1 + value.length + 1;
  const out = Buffer.allocUnsafe(reserve + size);
  let at = out.writeInt32LE(size, reserve);
  out.set(headBody, at);
  at += headBody.length;
  out[at++] = TYPE[type];
  out.set(keyBytes, at);
  at += keyBytes.length;
  out[at++] = 0;
  out.set(value, at);
  at += value.length;
  out[at] = 0;
  return out;
}

function decimalDigits(n: number): number {
  return n < 10 ? 1 : Math.floor(Math.log10(n)) + 1;
}
