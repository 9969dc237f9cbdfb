/**
 * Stored documents stay in their wire/disk BSON until something reads more than an indexed field.
 * This is the one place that reads BSON without decoding all of it, on bson's `onDemand` element
 * parser (the same one the driver uses for lazy replies): checking a document's structure, and
 * reading one top-level field. Both must agree exactly with a full decode (`decodeStored`).
 */
import { BSON, Double, ObjectId } from 'bson';
import type { Document } from 'bson';
import { isInt32Range, normalize } from './values.ts';

const { parseToElements, ByteUtils, NumberUtils } = BSON.onDemand;
type Element = [type: number, nameOffset: number, nameLength: number, offset: number, length: number];

/** Typed values stay distinguishable (int32 vs double), then collapse to the stored hybrid form. */
const DESERIALIZE = { promoteValues: false, promoteBuffers: false, bsonRegExp: true, validation: { utf8: false } } as const;

export function decodeStored(bytes: Uint8Array): Document {
  return normalize(BSON.deserialize(bytes, DESERIALIZE)) as Document;
}

const T_DOUBLE = 1, T_STRING = 2, T_OBJECT = 3, T_ARRAY = 4, T_OBJECT_ID = 7, T_BOOL = 8, T_DATE = 9, T_NULL = 10, T_INT32 = 16;
/** Types whose every byte pattern the full decoder accepts once parseToElements has sized them. */
const FIXED = new Set([T_DOUBLE, T_OBJECT_ID, T_DATE, T_NULL, T_INT32, 6, 17, 18, 19, 127, 255]);

/**
 * Throws unless `bytes` is exactly one well-formed BSON document, the way a full decode would.
 * Walks nested documents without building them; rare types (binary, regex, code...) get a full
 * decode instead of a second copy of the decoder's rules.
 */
export function checkDocument(bytes: Uint8Array): void {
  if (bytes.length < 5 || NumberUtils.getInt32LE(bytes, 0) !== bytes.length) throw new Error('BSON document size does not match its bytes');
  if (!checkElements(bytes, 0)) BSON.deserialize(bytes, DESERIALIZE);
}

/** True when every element was verified here; false when a full decode must decide. */
function checkElements(bytes: Uint8Array, start: number): boolean {
  for (const [type, , , offset, length] of parseToElements(bytes, start) as Iterable<Element>) {
    if (type === T_OBJECT || type === T_ARRAY) {
      if (length < 5 || !checkElements(bytes, offset)) return false;
    } else if (type === T_STRING) {
      if (length < 5 || bytes[offset + length - 1] !== 0) throw new Error('invalid BSON string');
    } else if (type === T_BOOL) {
      if ((bytes[offset] ?? 2) > 1) throw new Error('illegal boolean type value');
    } else if (!FIXED.has(type)) return false;
  }
  return true;
}

// Consecutive reads of one record's fields (an insert computing each index key) share one parse.
let lastBytes: Uint8Array | undefined;
let lastElements: Element[] = [];

const encodedNames = new Map<string, Uint8Array>();

function nameBytes(name: string): Uint8Array {
  let bytes = encodedNames.get(name);
  if (!bytes) {
    bytes = ByteUtils.fromUTF8(name);
    if (encodedNames.size >= 1024) encodedNames.clear();
    encodedNames.set(name, bytes);
  }
  return bytes;
}

function elementsOf(bytes: Uint8Array): Element[] {
  if (bytes !== lastBytes) {
    lastElements = parseToElements(bytes, 0) as Element[];
    lastBytes = bytes;
  }
  return lastElements;
}

/** The stored (hybrid) value of a top-level field, or undefined when absent; like `decodeStored(bytes)[name]`. */
export function readField(bytes: Uint8Array, name: string): unknown {
  const wanted = nameBytes(name);
  let found: Element | undefined;
  // A repeated name decodes to its last occurrence.
  for (const el of elementsOf(bytes)) if (sameName(bytes, el, wanted)) found = el;
  return found ? elementValue(bytes, found) : undefined;
}

/**
 * Whether a top-level name starts with `$`. Such a document may not decode to a plain object (bson
 * turns `{$ref, $id}` into a DBRef), so it cannot be stored as BSON on trust.
 */
export function hasDollarField(bytes: Uint8Array): boolean {
  for (const [, nameOffset] of elementsOf(bytes)) if (bytes[nameOffset] === 0x24) return true;
  return false;
}

/**
 * A top-level inclusion projection done on the BSON: the kept elements' bytes, copied in document
 * order (as mongod returns them), so nothing is decoded. The names are encoded once per query.
 */
export function fieldPicker(fields: readonly string[], withId: boolean): (bytes: Uint8Array) => Buffer {
  const wanted = fields.map(nameBytes);
  if (withId) wanted.push(nameBytes('_id'));
  return (bytes) => pickFields(bytes, wanted);
}

function pickFields(bytes: Uint8Array, wanted: readonly Uint8Array[]): Buffer {
  const kept: Element[] = [];
  let size = 4 + 1;
  for (const el of parseToElements(bytes, 0) as Iterable<Element>) {
    if (!wanted.some((name) => sameName(bytes, el, name))) continue;
    kept.push(el);
    size += el[3] + el[4] - (el[1] - 1);
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt32LE(size, 0);
  // An element is contiguous: type byte, name, NUL, value.
  for (const [, nameOffset, , offset, length] of kept) {
    out.set(bytes.subarray(nameOffset - 1, offset + length), at);
    at += offset + length - (nameOffset - 1);
  }
  out[at] = 0;
  return out;
}

function sameName(bytes: Uint8Array, [, nameOffset, nameLength]: Element, wanted: Uint8Array): boolean {
  if (nameLength !== wanted.length) return false;
  for (let i = 0; i < nameLength; i++) if (bytes[nameOffset + i] !== wanted[i]) return false;
  return true;
}

function elementValue(bytes: Uint8Array, el: Element): unknown {
  const [type, , , offset, length] = el;
  switch (type) {
    case T_STRING: return ByteUtils.toUTF8(bytes, offset + 4, offset + length - 1, false);
    case T_INT32: return NumberUtils.getInt32LE(bytes, offset);
    case T_DOUBLE: {
      const n = NumberUtils.getFloat64LE(bytes, offset);
      return isInt32Range(n) || Object.is(n, -0) ? new Double(n) : n;
    }
    // A view, not a copy: stored bytes are never written to.
    case T_OBJECT_ID: return new ObjectId(bytes.subarray(offset, offset + 12));
    case T_BOOL: return bytes[offset] === 1;
    case T_NULL: return null;
    // The decoder's own arithmetic (Long.toNumber of the int64 millis), minus a one-field document per date index key.
    case T_DATE: return new Date(NumberUtils.getInt32LE(bytes, offset + 4) * 4294967296 + (NumberUtils.getInt32LE(bytes, offset) >>> 0));
    default: return decodeAlone(bytes, el);
  }
}

/** Any other type: the element alone in a one-field document, through the full decoder. */
function decodeAlone(bytes: Uint8Array, [type, , , offset, length]: Element): unknown {
  const doc = new Uint8Array(4 + 1 + 1 + length + 1);
  NumberUtils.setInt32LE(doc, 0, doc.length);
  doc[4] = type;
  doc[5] = 0; // empty field name
  doc.set(bytes.subarray(offset, offset + length), 6);
  doc[doc.length - 1] = 0;
  return decodeStored(doc)[''];
}
