/** BSON comparison order and canonical index keys, matching mongod's semantics. */
import { Binary, ObjectId, Timestamp } from 'bson';
import { bsonType, isPlainObject, numericValue } from './values.ts';

/** Canonical type rank (numbers share one rank; null and missing share one). */
export function typeRank(v: unknown): number {
  const t = bsonType(v);
  switch (t) {
    case undefined: case 10: case 6: return 1;
    case -1: return 0;
    case 1: case 16: case 18: case 19: return 2;
    case 2: case 14: return 3;
    case 3: return 4;
    case 4: return 5;
    case 5: return 6;
    case 7: return 7;
    case 8: return 8;
    case 9: return 9;
    case 17: return 10;
    case 11: return 11;
    case 127: return 100;
    default: return 50;
  }
}

const cmpPrim = (a: number | string | bigint, b: number | string | bigint): number => (a < b ? -1 : a > b ? 1 : 0);

export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 2: {
      const x = numericValue(a) as number;
      const y = numericValue(b) as number;
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return cmpPrim(x, y);
    }
    case 3: return cmpPrim(String(a), String(b));
    case 4: {
      const ka = Object.keys(a as object);
      const kb = Object.keys(b as object);
      for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
        const c = compareValues((a as Record<string, unknown>)[ka[i] as string], (b as Record<string, unknown>)[kb[i] as string])
          || cmpPrim(ka[i] as string, kb[i] as string);
        if (c) return c;
      }
      return cmpPrim(ka.length, kb.length);
    }
    case 5: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
        const c = compareValues(xa[i], xb[i]);
        if (c) return c;
      }
      return cmpPrim(xa.length, xb.length);
    }
    case 6: {
      const ba = (a as Binary).buffer;
      const bb = (b as Binary).buffer;
      return cmpPrim(ba.length, bb.length) || cmpPrim((a as Binary).sub_type, (b as Binary).sub_type) || Buffer.compare(Buffer.from(ba), Buffer.from(bb));
    }
    case 7: return Buffer.compare((a as ObjectId).id, (b as ObjectId).id);
    case 8: return cmpPrim(Number(a), Number(b));
    case 9: return cmpPrim((a as Date).getTime(), (b as Date).getTime());
    case 10: return (a as Timestamp).compare(b as Timestamp);
    case 11: return cmpPrim(String(a), String(b));
    default: return 0;
  }
}

/**
 * Sort key of a field for one direction: arrays sort by their smallest (asc) or largest (desc) element,
 * as mongod does.
 */
export function sortKey(v: unknown, dir: number): unknown {
  if (!Array.isArray(v)) return v;
  if (v.length === 0) return undefined;
  let best: unknown = v[0];
  for (const x of v) if (dir > 0 ? compareValues(x, best) < 0 : compareValues(x, best) > 0) best = x;
  return best;
}

/**
 * Canonical string of a value for hash lookups: equal in mongod's eyes (1, 1.0, Long(1); null and missing)
 * means the same string.
 */
export function canonicalKey(v: unknown): string {
  if (v === null || v === undefined) return 'z';
  switch (typeof v) {
    case 'number': return 'n' + (Object.is(v, -0) ? '0' : String(v));
    case 'string': return 's' + v;
    case 'boolean': return v ? 'T' : 'F';
    default: break;
  }
  const n = numericValue(v);
  if (n !== undefined) {
    const big = (v as { _bsontype?: string })._bsontype === 'Long' && !Number.isSafeInteger(n);
    return big ? 'n' + String(v) : 'n' + (Object.is(n, -0) ? '0' : String(n));
  }
  if (v instanceof ObjectId) return 'o' + v.toHexString();
  if (v instanceof Date) return 'd' + v.getTime();
  if (Array.isArray(v)) return '[' + v.map(canonicalKey).join(',') + ']';
  if (v instanceof Binary) return 'b' + v.sub_type + ':' + Buffer.from(v.buffer).toString('base64');
  if (v instanceof RegExp) return 'r' + v.source + '/' + v.flags;
  if (isPlainObject(v)) return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + canonicalKey(v[k])).join(',') + '}';
  return 'x' + String((v as { _bsontype?: string })._bsontype) + ':' + JSON.stringify(v);
}

/** Whether two values are equal in mongod's eyes, walking objects and arrays instead of building their canonical keys. */
export function sameCanonical(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameCanonical(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (let i = 0; i < ka.length; i++) {
      const k = ka[i] as string;
      if (k !== kb[i] || !sameCanonical(a[k], b[k])) return false;
    }
    return true;
  }
  return !Array.isArray(b) && !isPlainObject(b) && canonicalKey(a) === canonicalKey(b);
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** 16 hex chars whose string order equals the numeric order of `n` (NaN excluded by callers). */
function sortableNumber(n: number): string {
  f64[0] = n === 0 ? 0 : n;
  let hi = u32[1] as number;
  let lo = u32[0] as number;
  if (hi & 0x80000000) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
  } else hi = (hi | 0x80000000) >>> 0;
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/**
 * Order-preserving string for a key tuple, so index comparisons are one string compare. Undefined for
 * values without a cheap encoding (those entries fall back to compareValues, which agrees with it).
 */
export function sortableKey(vals: unknown[]): string | undefined {
  let out = '';
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i];
    if (i > 0) out += '\u0000';
    if (v === null || v === undefined) out += '\u0021';
    else if (typeof v === 'string') out += '\u0023' + v;
    else if (typeof v === 'number') {
      if (Number.isNaN(v)) return undefined;
      out += '\u0022' + sortableNumber(v);
    } else if (typeof v === 'boolean') out += v ? '\u00281' : '\u00280';
    else if (v instanceof Date) {
      const t = v.getTime();
      if (Number.isNaN(t)) return undefined;
      out += '\u0029' + sortableNumber(t);
    } else if (v instanceof ObjectId) out += '\u0027' + v.toHexString();
    else {
      const n = numericValue(v);
      if (n === undefined || Number.isNaN(n) || !Number.isSafeInteger(Math.trunc(n)) && (v as { _bsontype?: string })._bsontype === 'Long') return undefined;
      out += '\u0022' + sortableNumber(n);
    }
  }
  return out;
}
