/**
 * Chooses how to fetch candidate records for a filter: hash lookups for equality/$in on every field of
 * an index, a sorted range scan on an index's leading field, an index walk to serve a sort, or a
 * collection scan. Candidates are always re-checked against the full filter by the caller.
 */
import type { Document } from 'bson';
import { compareValues, typeRank } from './bson-order.ts';
import type { Index, IndexEntry } from './indexes.ts';
import type { DocRecord, SortSpec } from './query.ts';
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
  kind: 'ixEq' | 'ixRange' | 'ixSort' | 'collScan';
  index?: string;
}

const MAX_EQ_COMBOS = 1000;

/** An equality value an index can look up: arrays and regexes match differently than they hash. */
const indexable = (v: unknown): boolean => !Array.isArray(v) && !(v instanceof RegExp) && !(isPlainObject(v) && Object.keys(v).some((k) => k.startsWith('$')));

function collectBounds(filter: Document, out: Map<string, Bounds>): void {
  for (const [field, cond] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(cond)) {
      for (const branch of cond) if (isPlainObject(branch)) collectBounds(branch, out);
      continue;
    }
    if (field.startsWith('$')) continue;
    const b = out.get(field) ?? {};
    if (isPlainObject(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
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

export function plan(records: Map<string, DocRecord>, indexes: Index[], filter: Document | undefined, sort?: SortSpec): Plan {
  const bounds = new Map<string, Bounds>();
  if (filter) collectBounds(filter, bounds);
  const usable = indexes.filter((ix) => !ix.inert);

  let best: { ix: Index; combos: unknown[][] } | undefined;
  for (const ix of usable) {
    // A partial index only holds documents matching its expression; proving the filter implies it is not attempted.
    if (ix.isPartial) continue;
    let combos: unknown[][] = [[]];
    for (const [field] of ix.fields) {
      const eq = bounds.get(field)?.eq;
      if (!eq) {
        combos = [];
        break;
      }
      // Sparse/partial indexes leave out documents that match `null`, so they cannot answer it.
      if (!ix.complete && eq.some((v) => v === null)) {
        combos = [];
        break;
      }
      combos = combos.flatMap((c) => eq.map((v) => [...c, v]));
      if (combos.length > MAX_EQ_COMBOS) break;
    }
    if (combos.length === 0 || combos.length > MAX_EQ_COMBOS) continue;
    if (!best || (ix.unique && !best.ix.unique) || combos.length < best.combos.length) best = { ix, combos };
  }
  if (best) {
    const { ix, combos } = best;
    const candidates = ix.multikey || combos.length > 1 ? dedupe(combos.flatMap((c) => [...ix.lookup(c)])) : ix.lookup(combos[0] as unknown[]);
    // Hash equality equals mongod equality for these values; a filter with nothing but these fields is fully answered.
    const exact = filter !== undefined && Object.keys(filter).length === ix.fields.length && ix.fields.every(([f]) => f in filter)
      && combos.every((c) => c.every((v) => v !== null && v !== undefined));
    return { candidates, sorted: false, exact, kind: 'ixEq', index: ix.name };
  }

  for (const ix of usable) {
    const lead = ix.fields[0] as [string, number];
    const b = bounds.get(lead[0]);
    if (!b || (!b.lower && !b.upper) || !ix.complete) continue;
    // On arrays each bound may be met by a different element, so a multikey scan can honour only one side.
    const scan = ix.multikey && b.lower && b.upper ? { lower: b.lower } : b;
    return { candidates: dedupe(rangeScan(ix, lead[1], scan)), sorted: false, kind: 'ixRange', index: ix.name };
  }

  const sortIx = sort && sort.length === 1 ? usable.find((ix) => ix.complete && !ix.multikey && ix.fields[0]?.[0] === sort[0]?.[0]) : undefined;
  if (sort && sortIx) {
    const forward = (sortIx.fields[0]?.[1] ?? 1) === sort[0]?.[1];
    const entries = forward ? sortIx.sorted.ascending() : sortIx.sorted.descending();
    return { candidates: mapEntries(entries), sorted: true, kind: 'ixSort', index: sortIx.name };
  }
  return { candidates: records.values(), sorted: false, kind: 'collScan' };
}

function* mapEntries(entries: Iterable<IndexEntry>): Generator<DocRecord> {
  for (const e of entries) yield e.rec;
}

/** Entries of the leading field within bounds; an open side stops at the bound's BSON type, as mongod does. */
function* rangeScan(ix: Index, dir: number, b: Bounds): Generator<DocRecord> {
  const rank = typeRank(b.lower ? b.lower.v : b.upper?.v);
  const below = (v: unknown): boolean => {
    if (typeRank(v) !== rank) return typeRank(v) < rank;
    if (!b.lower) return false;
    const c = compareValues(v, b.lower.v);
    return c < 0 || (c === 0 && !b.lower.inclusive);
  };
  const above = (v: unknown): boolean => {
    if (typeRank(v) !== rank) return typeRank(v) > rank;
    if (!b.upper) return false;
    const c = compareValues(v, b.upper.v);
    return c > 0 || (c === 0 && !b.upper.inclusive);
  };
  // The sorted list is ordered by the index direction; a descending index walks bounds mirrored.
  const startProbe = (e: IndexEntry): number => ((dir > 0 ? below(e.vals[0]) : above(e.vals[0])) ? -1 : 1);
  for (const e of ix.sorted.ascending(startProbe)) {
    const v = e.vals[0];
    if (dir > 0 ? above(v) : below(v)) return;
    yield e.rec;
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
