/**
 * Value representation. Stored documents are "hybrid": bson's wrapper objects are replaced by
 * plain JS numbers wherever that round-trips exactly (int32, and doubles that bson would re-encode
 * as doubles), so most documents are plain data that mingo can query directly. The wrappers that
 * carry type information a JS number cannot (integral doubles in int32 range, -0, Long, Decimal128)
 * are kept; documents containing them get a plain "view" for mingo.
 */
import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import type { Document } from 'bson';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export const isInt32Range = (n: number): boolean => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX && !Object.is(n, -0);

export function isPlainObject(v: unknown): v is Document {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A document's own field. Field names are data: `constructor` or `toString` must not resolve to
 * what every object inherits, and `__proto__` must not resolve to the prototype.
 */
export function ownField(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Document)[key] : undefined;
}

/**
 * Sets a field as data. Plain assignment of `__proto__` would replace the object's prototype (and
 * through a walk reach `Object.prototype` itself); mongod simply stores a field of that name.
 */
export function setField(obj: Document, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/**
 * Converts a value deserialised with promoteValues:false into the hybrid stored form. Runs over every
 * value of every document read from the wire or from disk, so plain objects and arrays are recognised
 * first and bson values by their `_bsontype` tag rather than a chain of instanceof checks.
 */
export function normalize(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (x !== null && typeof x === 'object') v[i] = normalize(x);
    }
    return v;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    const o = v as Document;
    for (const k in o) {
      const x: unknown = o[k];
      if (x !== null && typeof x === 'object') o[k] = normalize(x);
    }
    return o;
  }
  switch ((v as { _bsontype?: string })._bsontype) {
    case 'Int32': return (v as Int32).value;
    case 'Double': {
      const n = (v as Double).value;
      return isInt32Range(n) || Object.is(n, -0) ? v : n;
    }
    case 'BSONRegExp': {
      const re = v as BSONRegExp;
      // JS RegExp is what mingo and users expect; bson re-encodes it with the same pattern and flags.
      try { return new RegExp(re.pattern, re.options.replace(/[^imsu]/g, '')); } catch { return v; }
    }
    default: return v;
  }
}

/**
 * What mingo calls a field named `__proto__`. mingo copies objects by assignment, which turns such a
 * field into the copy's prototype, and refuses the name in paths; a BSON field name is a C string,
 * so no stored field can have this name.
 */
export const PROTO_ALIAS = '\u0000__proto__';

/** True when the value holds a field named `__proto__` at any depth. */
export function hasProtoField(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasProtoField);
  if (!isPlainObject(v)) return false;
  for (const k of Object.keys(v)) if (k === '__proto__' || hasProtoField(v[k])) return true;
  return false;
}

/** True when mingo cannot read the value as it is: a numeric wrapper, or a field named `__proto__`. */
function needsView(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (needsView(v[i])) return true;
    return false;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    const o = v as Document;
    for (const k in o) if (k === '__proto__' || needsView(o[k])) return true;
    return false;
  }
  const tag = (v as { _bsontype?: string })._bsontype;
  return tag === 'Double' || tag === 'Long' || tag === 'Decimal128';
}

/** Timestamp subclasses Long in bson but is not a number to MongoDB. */
export const isLong = (v: unknown): v is Long => v instanceof Long && (v as { _bsontype?: string })._bsontype === 'Long';

export function numericValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof Double || v instanceof Int32) return v.value;
  if (isLong(v)) return v.toNumber();
  if (v instanceof Decimal128) return Number(v.toString());
  return undefined;
}

/** Plain-number copy for mingo, `__proto__` fields under PROTO_ALIAS; shares every subtree that needs neither. */
export function toView(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const n = numericValue(v);
  if (n !== undefined) return n;
  if (Array.isArray(v)) return v.some(needsView) ? v.map(toView) : v;
  if (isPlainObject(v)) {
    if (!needsView(v)) return v;
    const out: Document = {};
    for (const k of Object.keys(v)) out[k === '__proto__' ? PROTO_ALIAS : k] = toView(v[k]);
    return out;
  }
  return v;
}

/** A result mingo built from views, with PROTO_ALIAS fields named `__proto__` again (a copy where any is found). */
export function fromView(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = fromView(v[i]);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if (!isPlainObject(v)) return v;
  let out: Document | undefined;
  const keys = Object.keys(v);
  keys.forEach((k, i) => {
    const x = fromView(v[k]);
    if (out === undefined && (x !== v[k] || k === PROTO_ALIAS)) {
      out = {};
      for (const earlier of keys.slice(0, i)) out[earlier] = v[earlier];
    }
    if (out !== undefined) setField(out, k === PROTO_ALIAS ? '__proto__' : k, x);
  });
  return out ?? v;
}

/** Deep copy of plain objects/arrays; BSON leaves are immutable in practice and are shared. */
export function cloneDoc<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneDoc) as T;
  if (isPlainObject(v)) {
    const out: Document = {};
    for (const k of Object.keys(v)) setField(out, k, cloneDoc(v[k]));
    return out as T;
  }
  return v;
}

/** BSON type number of a stored value (undefined for a missing field). */
export function bsonType(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (v === null) return 10;
  switch (typeof v) {
    case 'number': return isInt32Range(v) ? 16 : 1;
    case 'string': return 2;
    case 'boolean': return 8;
    case 'bigint': return 18;
    default: break;
  }
  if (Array.isArray(v)) return 4;
  if (v instanceof Date) return 9;
  if (v instanceof RegExp || v instanceof BSONRegExp) return 11;
  if (v instanceof ObjectId) return 7;
  if (v instanceof Binary) return 5;
  if (v instanceof Timestamp) return 17;
  if (v instanceof Double) return 1;
  if (v instanceof Long) return 18;
  if (v instanceof Decimal128) return 19;
  const tag = (v as { _bsontype?: string })._bsontype;
  if (tag === 'MinKey') return -1;
  if (tag === 'MaxKey') return 127;
  if (tag === 'Code') return 13;
  if (tag === 'BSONSymbol') return 14;
  return 3;
}

export const TYPE_ALIASES: Record<string, number> = {
  double: 1, string: 2, object: 3, array: 4, binData: 5, undefined: 6, objectId: 7, bool: 8, date: 9,
  null: 10, regex: 11, dbPointer: 12, javascript: 13, symbol: 14, javascriptWithScope: 15, int: 16,
  timestamp: 17, long: 18, decimal: 19, minKey: -1, maxKey: 127,
};
const NUMBER_TYPES = new Set([1, 16, 18, 19]);

/** Whether the value itself (never its elements) has one of the wanted types. */
export function isOfType(v: unknown, wanted: unknown): boolean {
  const t = bsonType(v);
  if (t === undefined) return false;
  const list = Array.isArray(wanted) ? wanted : [wanted];
  return list.some((w) => {
    if (w === 'number') return NUMBER_TYPES.has(t);
    const code = typeof w === 'string' ? TYPE_ALIASES[w] : numericValue(w);
    if (code === undefined) throw new Error(`unknown type name alias: ${String(w)}`);
    return code === t;
  });
}

/** MongoDB $type semantics: arrays match 'array' themselves or through any element. */
export function matchesType(v: unknown, wanted: unknown): boolean {
  if (Array.isArray(v)) return isOfType(v, wanted) || v.some((x) => isOfType(x, wanted));
  return isOfType(v, wanted);
}
