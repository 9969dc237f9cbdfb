/** BSON helpers shared by journal and snapshot encoding. */
import { BSON, Double, Int32, Long } from 'bson';
import type { DeserializeOptions, Document } from 'bson';
import { arrayOfDocuments, withEmbedded } from '../bson-compose.ts';
import { setField } from '../values.ts';
import { FRAME_HEADER_BYTES, sealRecord } from './framing.ts';
import type { IndexDefinition } from './contract.ts';

/**
 * Keeps every BSON type distinct on the way back (int32 vs double vs long, BSON regex flags JS
 * cannot express), so re-serialising a recovered document yields the bytes that were journaled.
 * UTF-8 validation is skipped: the CRC already vouches for the bytes, which BSON.serialize
 * produced from JS strings, and the check is a measurable share of recovery time.
 */
export const DESERIALIZE_OPTIONS: DeserializeOptions = { promoteValues: false, bsonRegExp: true, validation: { utf8: false } };

/**
 * `raw` leaves embedded documents undecoded: `'nested'` for every one, or the named array fields'
 * document elements (bson's fieldsAsRaw). They come back as views of `payload`.
 */
export function deserialize(payload: Uint8Array, raw?: 'nested' | Record<string, true>): Document {
  if (raw === undefined) return BSON.deserialize(payload, DESERIALIZE_OPTIONS);
  return BSON.deserialize(payload, raw === 'nested' ? { ...DESERIALIZE_OPTIONS, raw: true } : { ...DESERIALIZE_OPTIONS, fieldsAsRaw: raw });
}

/** Frames one BSON document as a record. */
export function frameDocument(doc: Document): Buffer {
  const bytes = BSON.serialize(doc);
  const record = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bytes.length);
  record.set(bytes, FRAME_HEADER_BYTES);
  return sealRecord(record);
}

/**
 * Frames `{ ...head, [key]: [elements] }` where each element is an already serialised document, so
 * no element is serialised twice (once to size the split, once for the record).
 */
export function frameDocumentWithArray(head: Document, key: string, elements: readonly Uint8Array[]): Buffer {
  return sealRecord(withEmbedded(head, key, arrayOfDocuments(elements), 'array', FRAME_HEADER_BYTES));
}

/** Numeric BSON wrappers (as produced by promoteValues: false) to a JS number. */
export function toNumber(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  if (value instanceof Int32 || value instanceof Double) return value.value;
  if (value instanceof Long) return value.toNumber();
  throw new Error(`${what} is not a number`);
}

export function toLong(value: number): Long {
  return Long.fromNumber(value);
}

export function expectString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  return value;
}

export function expectDocument(value: unknown, what: string): Document {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not a document`);
  return value as Document;
}

/**
 * Index definitions come back as the contract types them: `key` directions and
 * `expireAfterSeconds` as plain numbers. `partialFilterExpression` and unknown extra fields
 * stay exact, like any other document.
 */
export function decodeIndex(value: unknown): IndexDefinition {
  const raw = expectDocument(value, 'index definition');
  const key: Document = {};
  for (const [field, direction] of Object.entries(expectDocument(raw.key, 'index key'))) {
    setField(key, field, typeof direction === 'string' ? direction : toNumber(direction, `index key ${field}`));
  }
  const index: IndexDefinition = { ...raw, name: expectString(raw.name, 'index name'), key };
  if (raw.expireAfterSeconds !== undefined) index.expireAfterSeconds = toNumber(raw.expireAfterSeconds, 'expireAfterSeconds');
  return index;
}
