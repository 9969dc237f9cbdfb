/**
 * Chooses how to fetch candidate records for a filter, as mongod does: for each index, the longest
 * prefix of its fields with equality/$in bounds, then at most one range on the next field, scanned
 * within those bounds (a hash lookup when equality covers every field); else an index walk to serve a
 * sort, or a collection scan. Candidates are always re-checked against the full filter by the caller
 * unless the plan says it is exact.
 */
import type { Document } from 'bson';
import { compareValues, typeRank } from './bson-order.ts';
import { tupleHash } from './indexes.ts';
import type { Index, IndexEntry } from './indexes.ts';
import type { SortSpec } from './query.ts';
import type { DocRecord } from './record.ts';
import { isPlainObject } from './values.ts';

interface Bounds {
  eq?: unknown[];
  lower?: { v: unknown; inclusive: boolean };
  upper?: { v: unknown; inclusive: boolean };
}

export interface Plan {
  candidates: Iterable<DocRecord>;
  /** True when candidates already come in the requested sort order. */
  sorted: boolean;
  /** True when every candidate matches the whole filter, so re-checking it can be skipped. */
  exact?: boolean;
  /** For explain-ish logging and tests. */
  kind: 'ixEq' | 'ixPrefix' | 'ixRange' | 'ixSort' | 'collScan';
  index?: string;
}

const MAX_EQ_COMBOS = 1000;

const isOperators = (v: unknown): v is Document => isPlainObject(v) && Object.keys(v).some((k) => k.startsWith('$'));

/** An equality value an index can look up: arrays and regexes match differently than they hash. */
const indexable = (v: unknown): boolean => !Array.isArray(v) && !(v instanceof RegExp) && !isOperators(v);

function collectBounds(filter: Document, out: Map<string, Bounds>): void {
  for (const [field, cond] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(cond)) {
      for (const branch of cond) if (isPlainObject(branch)) collectBounds(branch, out);
      continue;
    }
    if (field.startsWith('$')) continue;
    const b = out.get(field) ?? {};
    if (isOperators(cond)) {
      for (const [op, v] of Object.entries(cond)) {
        if (op === '$eq' && indexable(v)) b.eq = [v];
        else if (op === '$in' && Array.isArray(v) && v.every(indexable)) b.eq = v;
        else if ((op === '$gt' || op === '$gte') && indexable(v)) b.lower = { v, inclusive: op === '$gte' };
        else if ((op === '$lt' || op === '$lte') && indexable(v)) b.upper = { v, inclusive: op === '$lte' };
      }
    } else if (indexable(cond)) b.eq = [cond];
    out.set(field, b);
  }
}

/** How one index can bound a filter. */
interface Access {
  ix: Index;
  /** Equality tuples for the index's leading fields (one per $in combination, deduplicated). */
  combos: unknown[][];
  /** How many leading fields the combos fix. */
  eqFields: number;
  /** A range on the field after the equality prefix. */
  range?: Bounds;
  /** Walking the bounds in index order (1) or reversed (-1) yields the requested sort; 0 when it cannot. */
  walk: -1 | 0 | 1;
}

export function plan(records: Map<string, DocRecord>, indexes: Index[], filter: Document | undefined, sort?: SortSpec): Plan {
  const bounds = new Map<string, Bounds>();
  if (filter) collectBounds(filter, bounds);
  const usable = indexes.filter((ix) => !ix.inert);

  let best: Access | undefined;
  for (const ix of usable) {
    // A partial index only holds documents matching its expression; proving the filter implies it is not attempted.
    if (ix.isPartial) continue;
    const a = accessFor(ix, bounds, sort);
    if (a && (!best || preference(a, best) > 0)) best = a;
  }
  if (best) return boundedPlan(best, filter);

  const sortIx = sort && sort.length === 1 ? usable.find((ix) => ix.complete && !ix.multikey && ix.fields[0]?.[0] === sort[0]?.[0]) : undefined;
  if (sort && sortIx) {
    const forward = (sortIx.fields[0]?.[1] ?? 1) === sort[0]?.[1];
    const entries = forward ? sortIx.sorted.ascending() : sortIx.sorted.descending();
    return { candidates: mapEntries(entries), sorted: true, kind: 'ixSort', index: sortIx.name };
  }
  return { candidates: records.values(), sorted: false, kind: 'collScan' };
}

function accessFor(ix: Index, bounds: Map<string, Bounds>, sort: SortSpec | undefined): Access | undefined {
  let combos: unknown[][] = [[]];
  let eqFields = 0;
  for (const [field] of ix.fields) {
    const eq = bounds.get(field)?.eq;
    // Sparse indexes leave out documents that match `null`, so they cannot answer it.
    if (!eq || (!ix.complete && eq.some((v) => v === null))) break;
    const next = combos.flatMap((c) => eq.map((v) => [...c, v]));
    if (next.length > MAX_EQ_COMBOS) break;
    combos = next;
    eqFields++;
  }
  const next = ix.fields[eqFields];
  const b = next && bounds.get(next[0]);
  // A sparse index holds every document with a non-null prefix value, but not those a bare range on `null` matches.
  const rangeOk = b && (b.lower || b.upper) && (ix.complete || eqFields > 0);
  // On arrays each bound may be met by a different element, so a multikey scan can honour only one side.
  const range = rangeOk ? (ix.multikey && b.lower && b.upper ? { lower: b.lower } : b) : undefined;
  if (eqFields === 0 && !range) return undefined;
  const unique = new Map(combos.map((c) => [tupleHash(c), c]));
  return { ix, combos: [...unique.values()], eqFields, range, walk: sortWalk(ix, eqFields, bounds, sort) };
}

/**
 * Whether the index order within fixed leading fields serves `sort`: sort keys fixed by a single equality
 * value are constant and drop out; the rest must be the next index fields, all the same or all the
 * opposite direction. Multikey entries are per element, which is not the array's sort key.
 */
function sortWalk(ix: Index, eqFields: number, bounds: Map<string, Bounds>, sort: SortSpec | undefined): -1 | 0 | 1 {
  if (!sort || ix.multikey) return 0;
  const fixed = new Set(ix.fields.slice(0, eqFields).filter(([f]) => bounds.get(f)?.eq?.length === 1).map(([f]) => f));
  const rest = sort.filter(([f]) => !fixed.has(f));
  let walk: -1 | 0 | 1 = 1;
  for (let i = 0; i < rest.length; i++) {
    const [field, dir] = rest[i] as [string, 1 | -1];
    const ixField = ix.fields[eqFields + i];
    if (!ixField || ixField[0] !== field) return 0;
    const w = dir === ixField[1] ? 1 : -1;
    if (i > 0 && w !== walk) return 0;
    walk = w;
  }
  return walk;
}

/** > 0 when `a` is the better access path: unique point lookup, then most bounded fields, then sort order, then a hash lookup, then fewest scans. */
function preference(a: Access, b: Access): number {
  const score = (x: Access): number[] => {
    const full = x.eqFields === x.ix.fields.length;
    return [full && x.ix.unique ? 1 : 0, x.eqFields + (x.range ? 0.5 : 0), x.walk !== 0 ? 1 : 0, full ? 1 : 0, -x.combos.length];
  };
  const sa = score(a);
  const sb = score(b);
  for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return (sa[i] as number) - (sb[i] as number);
  return 0;
}

function boundedPlan(a: Access, filter: Document | undefined): Plan {
  const { ix, combos, eqFields, range, walk } = a;
  const many = ix.multikey || combos.length > 1;
  if (eqFields === ix.fields.length) {
    const candidates = many || combos.length !== 1 ? dedupe(combos.flatMap((c) => [...ix.lookup(c)])) : ix.lookup(combos[0] as unknown[]);
    return { candidates, sorted: walk !== 0 && combos.length <= 1, exact: exactLookup(ix, combos, filter), kind: 'ixEq', index: ix.name };
  }
  const scans = combos.map((c) => boundedScan(ix, c, range, walk === -1 ? -1 : 1));
  const entries = walk !== 0 && scans.length > 1 ? mergeScans(scans, ix, eqFields, walk) : scans.length === 1 ? (scans[0] as Iterable<IndexEntry>) : concat(scans);
  const recs = mapEntries(entries);
  return { candidates: many ? dedupe(recs) : recs, sorted: walk !== 0, kind: eqFields > 0 ? 'ixPrefix' : 'ixRange', index: ix.name };
}

/** Hash equality equals mongod equality for these values, so a filter of nothing but plain equality on the index's fields is fully answered. */
function exactLookup(ix: Index, combos: unknown[][], filter: Document | undefined): boolean {
  if (!filter || Object.keys(filter).length !== ix.fields.length) return false;
  const plainEq = (cond: unknown): boolean => !isOperators(cond) || (Object.keys(cond).length === 1 && ('$eq' in cond || '$in' in cond));
  return ix.fields.every(([f]) => Object.hasOwn(filter, f) && plainEq(filter[f])) && combos.every((c) => c.every((v) => v !== null && v !== undefined));
}

function* mapEntries(entries: Iterable<IndexEntry>): Generator<DocRecord> {
  for (const e of entries) yield e.rec;
}

function* concat<T>(parts: Iterable<T>[]): Generator<T> {
  for (const p of parts) yield* p;
}

/**
 * Entries whose leading fields equal `prefix` and whose next field lies within `range`, walked in index
 * order (walk 1) or reversed (-1). The range's open side stops at its bound's BSON type, as mongod does.
 */
function* boundedScan(ix: Index, prefix: unknown[], range: Bounds | undefined, walk: 1 | -1): Generator<IndexEntry> {
  const k = prefix.length;
  const dirs = ix.fields.map(([, d]) => d);
  const rank = typeRank(range?.lower ? range.lower.v : range?.upper?.v);
  const below = (v: unknown): boolean => {
    if (typeRank(v) !== rank) return typeRank(v) < rank;
    if (!range?.lower) return false;
    const c = compareValues(v, range.lower.v);
    return c < 0 || (c === 0 && !range.lower.inclusive);
  };
  const above = (v: unknown): boolean => {
    if (typeRank(v) !== rank) return typeRank(v) > rank;
    if (!range?.upper) return false;
    const c = compareValues(v, range.upper.v);
    return c > 0 || (c === 0 && !range.upper.inclusive);
  };
  // Where an entry lies against the bounds in index order: -1 before, 0 within, 1 after (a descending field mirrors).
  const place = (e: IndexEntry): number => {
    for (let i = 0; i < k; i++) {
      const c = compareValues(e.vals[i], prefix[i]);
      if (c) return c * (dirs[i] as number);
    }
    if (!range) return 0;
    const v = e.vals[k];
    return below(v) ? -(dirs[k] as number) : above(v) ? (dirs[k] as number) : 0;
  };
  const entries = walk > 0 ? ix.sorted.ascending((e) => (place(e) < 0 ? -1 : 1)) : ix.sorted.descending((e) => (place(e) > 0 ? 1 : -1));
  for (const e of entries) {
    if (place(e) !== 0) return;
    yield e;
  }
}

/** Merges per-combination scans, each already in walk order over the fields after the equality prefix. */
function* mergeScans(scans: Iterator<IndexEntry>[], ix: Index, from: number, walk: -1 | 1): Generator<IndexEntry> {
  const dirs = ix.fields.map(([, d]) => d * walk);
  const cmp = (a: IndexEntry, b: IndexEntry): number => {
    for (let i = from; i < dirs.length; i++) {
      const c = compareValues(a.vals[i], b.vals[i]);
      if (c) return c * (dirs[i] as number);
    }
    return 0;
  };
  const heads = scans.map((s) => s.next());
  for (;;) {
    let min = -1;
    heads.forEach((h, i) => {
      if (!h.done && (min < 0 || cmp(h.value, (heads[min] as IteratorYieldResult<IndexEntry>).value) < 0)) min = i;
    });
    if (min < 0) return;
    const h = heads[min] as IteratorYieldResult<IndexEntry>;
    yield h.value;
    heads[min] = (scans[min] as Iterator<IndexEntry>).next();
  }
}

function* dedupe(recs: Iterable<DocRecord>): Generator<DocRecord> {
  const seen = new Set<DocRecord>();
  for (const r of recs) {
    if (seen.has(r)) continue;
    seen.add(r);
    yield r;
  }
}
