/** Filters (via mingo over plain views), sorting in BSON order, and find projections. */
import { Context } from 'mingo';
import { Aggregator } from 'mingo/aggregator';
import * as accumulatorOps from 'mingo/operators/accumulator';
import * as expressionOps from 'mingo/operators/expression';
import * as pipelineOps from 'mingo/operators/pipeline';
import * as projectionOps from 'mingo/operators/projection';
import * as queryOps from 'mingo/operators/query';
import * as windowOps from 'mingo/operators/window';
import { Query } from 'mingo/query';
import type { Options, QueryOperator } from 'mingo/types';
import type { Document } from 'bson';
import { canonicalKey, compareValues, sortKey, typeRank } from './bson-order.ts';
import { badValue } from './errors.ts';
import { collectPath, getPath, setPath, sortPathValue } from './paths.ts';
import { PROTO_ALIAS, isOfType, isPlainObject, matchesType, numericValue, ownField, setField, toView } from './values.ts';
import { typedRoot } from './record.ts';
import type { DocRecord } from './record.ts';

// mingo's $type treats every number as double and does not know ObjectId; mongod's rules live in values.ts.
const typeOperator = ((selector: string, value: unknown) => {
  const typedPath = unaliasPath(selector);
  return (o: Document) => collectPath(typedRoot(o), typedPath).some((v) => matchesType(v, value));
}) as unknown as QueryOperator;

/**
 * mongod's value-form $elemMatch (`{$elemMatch: {$gt: 1, $lt: 5}}`) applies every predicate to each
 * element as a whole: an element that is itself an array is not traversed, and BSON type bracketing
 * keeps it from comparing with a scalar. mingo wraps elements as `{field: el}` and so traverses
 * nested arrays; scalar elements keep mingo's evaluation, array elements get whole-value semantics.
 * The document form (`{$elemMatch: {field: ...}}`) is mingo's own.
 */
const elemMatchOperator = ((selector: string, criteria: unknown, options: Options) => {
  if (!isValueForm(criteria)) return (queryOps.$elemMatch as unknown as (s: string, c: unknown, o: Options) => unknown)(selector, criteria, options);
  const test = elementTest(criteria, options);
  return (o: Document) => collectPath(o, selector).some((v) => Array.isArray(v) && v.some(test));
}) as unknown as QueryOperator;

function isValueForm(criteria: unknown): criteria is Document {
  if (!isPlainObject(criteria)) return false;
  const keys = Object.keys(criteria);
  return keys.length > 0 && keys.every((k) => k.startsWith('$') && k !== '$and' && k !== '$or' && k !== '$nor');
}

function elementTest(criteria: Document, options: Options): (el: unknown) => boolean {
  const scalar = new Query({ field: criteria }, options);
  const whole = Object.entries(criteria).map(([op, arg]) => wholeValueTest(op, arg, options));
  return (el) => (Array.isArray(el) ? whole.every((t) => t(el)) : scalar.test({ field: el }));
}

const sameValue = (a: unknown, b: unknown): boolean => canonicalKey(a) === canonicalKey(b);

/** Type-bracketed comparison: NaN (so every relational test fails) across different BSON types. */
const bracketed = (a: unknown, b: unknown): number => (typeRank(a) === typeRank(b) ? compareValues(a, b) : Number.NaN);

/** One value-form predicate applied to an array element as a whole. */
function wholeValueTest(op: string, arg: unknown, options: Options): (el: unknown[]) => boolean {
  switch (op) {
    case '$eq': return (el) => sameValue(el, arg);
    case '$ne': return (el) => !sameValue(el, arg);
    case '$gt': return (el) => bracketed(el, arg) > 0;
    case '$gte': return (el) => bracketed(el, arg) >= 0;
    case '$lt': return (el) => bracketed(el, arg) < 0;
    case '$lte': return (el) => bracketed(el, arg) <= 0;
    case '$in': return (el) => Array.isArray(arg) && arg.some((v) => sameValue(el, v));
    case '$nin': return (el) => !(Array.isArray(arg) && arg.some((v) => sameValue(el, v)));
    case '$size': return (el) => el.length === numericValue(arg);
    case '$type': return (el) => isOfType(el, arg);
    case '$exists': return () => Boolean(arg);
    case '$regex': case '$mod': return () => false;
    case '$options': return () => true;
    case '$not': {
      if (!isPlainObject(arg)) return () => true; // a regex never matches an array
      const inner = elementTest(arg, options);
      return (el) => !inner(el);
    }
    default: {
      // $elemMatch nested in the value form already sees the element as the array to search.
      const q = new Query({ field: { [op]: arg } }, options);
      return (el) => q.test({ field: el });
    }
  }
}

/**
 * Built once: mingo's top-level Query/Aggregator merge a custom context into the default one on every
 * construction, which dominated the cost of small queries.
 */
const MINGO_CONTEXT = Context.init({
  accumulator: accumulatorOps,
  expression: expressionOps,
  pipeline: pipelineOps,
  projection: projectionOps,
  query: { ...queryOps, $type: typeOperator, $elemMatch: elemMatchOperator },
  window: windowOps,
});

export function makeAggregator(pipeline: Document[], options: Partial<Options> = {}): Aggregator {
  return new Aggregator(pipeline, { ...options, context: MINGO_CONTEXT });
}

export type Matcher = (rec: DocRecord) => boolean;

const aliasPath = (path: string): string => (path.includes('__proto__') ? path.split('.').map((s) => (s === '__proto__' ? PROTO_ALIAS : s)).join('.') : path);
const unaliasPath = (path: string): string => (path.includes(PROTO_ALIAS) ? path.split('.').map((s) => (s === PROTO_ALIAS ? '__proto__' : s)).join('.') : path);

/**
 * A filter or pipeline as mingo must see it: values as toView makes them, and every `__proto__`
 * path segment as PROTO_ALIAS, the name views give such a field. Segments are renamed in field
 * names everywhere, and in `$field.path` strings only where they are expressions (`$expr`, pipeline
 * stages other than `$match`): in a filter such a string is a literal value. `$literal` is kept.
 */
export function specView(spec: unknown, expression = false): unknown {
  // `$a.b` names a field path, `$$var.a.b` a path in a variable; either way the leading `$` part is no field name.
  if (typeof spec === 'string') return expression && spec.startsWith('$') ? `$${aliasPath(spec.slice(1))}` : spec;
  if (Array.isArray(spec)) return spec.map((x) => specView(x, expression));
  if (!isPlainObject(spec)) return toView(spec);
  const out: Document = {};
  for (const k of Object.keys(spec)) {
    const v = spec[k];
    out[k === '__proto__' ? PROTO_ALIAS : aliasPath(k)] =
      k === '$literal' ? toView(v) : specView(v, k === '$expr' ? true : k === '$match' ? false : expression);
  }
  return out;
}

export function compileFilter(filter: Document | undefined): Matcher {
  if (!filter || Object.keys(filter).length === 0) return () => true;
  const q = new Query(specView(filter) as Document, { context: MINGO_CONTEXT });
  return (rec) => q.test(rec.view);
}

/** Tests a plain value-holding object (array filters, $pull conditions) with mingo. */
export function compileValueFilter(filter: Document): (obj: Document) => boolean {
  const q = new Query(specView(filter) as Document, { context: MINGO_CONTEXT });
  return (obj) => q.test(toView(obj) as Document);
}

export type SortSpec = Array<[string, 1 | -1]>;

export function parseSort(sort: unknown): SortSpec | undefined {
  if (!isPlainObject(sort) || Object.keys(sort).length === 0) return undefined;
  return Object.entries(sort).map(([k, v]) => {
    if (isPlainObject(v)) throw badValue(`$meta sort on '${k}' is not supported by the embedded server`);
    const n = Number(v);
    if (n !== 1 && n !== -1) throw badValue(`bad sort specification for '${k}': ${String(v)}`);
    return [k, n];
  });
}

export function sortDocs(docs: Document[], spec: SortSpec): Document[] {
  return sortBy(docs, (d) => d, spec);
}

export function sortRecords(recs: DocRecord[], spec: SortSpec): DocRecord[] {
  return sortBy(recs, (r) => r.doc, spec);
}

function sortBy<T>(items: T[], docOf: (item: T) => Document, spec: SortSpec): T[] {
  // Precompute keys so the comparator never walks paths repeatedly.
  const keyed = items.map((d) => ({ d, k: spec.map(([p, dir]) => sortKey(sortPathValue(docOf(d), p), dir)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < spec.length; i++) {
      const c = compareValues(a.k[i], b.k[i]);
      if (c) return c * (spec[i] as [string, number])[1];
    }
    return 0;
  });
  return keyed.map((x) => x.d);
}

/** Index of the first array element the filter's conditions on that array match (mongod's `$`). */
export function positionalIndex(arr: unknown[], arrayPath: string, filter: Document): number {
  const sub: Document = {};
  for (const [k, v] of Object.entries(filter)) if (k === arrayPath || k.startsWith(arrayPath + '.')) setField(sub, k, v);
  if (Object.keys(sub).length) {
    const test = compileValueFilter(sub);
    const i = arr.findIndex((el) => {
      const probe: Document = {};
      setPath(probe, arrayPath, [el]);
      return test(probe);
    });
    if (i >= 0) return i;
  }
  throw badValue('The positional operator did not find the match needed from the query.');
}

export const isKnownStage = (name: string): boolean => name in pipelineOps;

/**
 * The projection's fields when it only includes top-level fields (`{a: 1, b: 1, _id: 0}`, the common
 * case): such a projection can be served from a stored document's BSON by copying those elements.
 */
export function topLevelInclusion(proj: unknown): { fields: string[]; withId: boolean } | undefined {
  if (!isPlainObject(proj)) return undefined;
  const fields: string[] = [];
  let withId = true;
  for (const [k, v] of Object.entries(proj)) {
    const on = v === true || (typeof v === 'number' && v !== 0);
    if (k === '_id') {
      if (!on && v !== false && v !== 0) return undefined;
      withId = on;
    } else if (on && !k.includes('.') && !k.startsWith('$')) fields.push(k);
    else return undefined;
  }
  return fields.length > 0 ? { fields, withId } : undefined;
}

/** find-style projection: inclusion or exclusion of dotted paths, plus $slice/$elemMatch. */
export function compileProjection(proj: unknown, filter: Document = {}): ((doc: Document) => Document) | undefined {
  if (!isPlainObject(proj) || Object.keys(proj).length === 0) return undefined;
  const include: string[] = [];
  const exclude: string[] = [];
  const ops: Array<[string, Document]> = [];
  let idMode: boolean | undefined;
  let positional: string | undefined;
  for (const [k, v] of Object.entries(proj)) {
    if (k.endsWith('.$') && !k.slice(0, -2).includes('$')) {
      positional = k.slice(0, -2);
      include.push(positional);
      continue;
    }
    if (k.includes('$')) throw badValue(`unsupported projection path '${k}'`);
    if (isPlainObject(v)) {
      const op = Object.keys(v)[0];
      if (op !== '$slice' && op !== '$elemMatch') throw badValue(`Unsupported projection option: ${k}: ${JSON.stringify(v)}`);
      ops.push([k, v]);
      continue;
    }
    const on = v === true || (typeof v === 'number' && v !== 0) || (v !== false && v !== 0 && v !== null && typeof v === 'object');
    if (k === '_id') idMode = on;
    else (on ? include : exclude).push(k);
  }
  if (include.length && exclude.length) throw badValue('Cannot do exclusion on field in inclusion projection');
  const inclusion = include.length > 0 || (exclude.length === 0 && idMode === true && ops.length === 0);
  return (doc) => {
    let out: Document;
    if (inclusion) {
      out = {};
      if (idMode !== false && doc._id !== undefined) out._id = doc._id;
      for (const p of include) copyPath(doc, out, p.split('.'));
    } else {
      out = { ...doc };
      for (const p of exclude) removeCopy(out, p.split('.'));
      if (idMode === false) delete out._id;
    }
    for (const [p, spec] of ops) applyProjectionOp(doc, out, p, spec);
    if (positional !== undefined) {
      const arr = getPath(doc, positional);
      if (Array.isArray(arr)) setOwnPath(out, positional, [arr[positionalIndex(arr, positional, filter)]]);
    }
    return out;
  };
}

function copyPath(src: unknown, dst: Document, segs: string[]): void {
  const [head, ...rest] = segs as [string, ...string[]];
  if (!isPlainObject(src) || !Object.hasOwn(src, head)) return;
  const v = src[head];
  if (rest.length === 0) {
    setField(dst, head, v);
    return;
  }
  const have = ownField(dst, head);
  if (Array.isArray(v)) {
    const arr = (Array.isArray(have) ? have : v.map(() => undefined)) as unknown[];
    v.forEach((el, i) => {
      if (!isPlainObject(el)) return;
      const sub = (isPlainObject(arr[i]) ? arr[i] : {}) as Document;
      copyPath(el, sub, rest);
      arr[i] = sub;
    });
    setField(dst, head, arr.filter((x) => x !== undefined));
  } else if (isPlainObject(v)) {
    const sub = (isPlainObject(have) ? have : {}) as Document;
    copyPath(v, sub, rest);
    setField(dst, head, sub);
  }
}

function removeCopy(dst: Document, segs: string[]): void {
  const [head, ...rest] = segs as [string, ...string[]];
  if (!Object.hasOwn(dst, head)) return;
  if (rest.length === 0) {
    delete dst[head];
    return;
  }
  const v = dst[head];
  if (Array.isArray(v)) setField(dst, head, v.map((el) => (isPlainObject(el) ? removeFrom({ ...el }, rest) : el)));
  else if (isPlainObject(v)) setField(dst, head, removeFrom({ ...v }, rest));
}

function removeFrom(d: Document, segs: string[]): Document {
  removeCopy(d, segs);
  return d;
}

/**
 * setPath on a projection's output, which shares its objects and arrays with the stored document:
 * each one along the path is copied first, so the write never reaches the stored document.
 */
function setOwnPath(out: Document, path: string, value: unknown): void {
  let cur: Document = out;
  for (const seg of path.split('.').slice(0, -1)) {
    const next = ownField(cur, seg);
    if (Array.isArray(next)) setField(cur, seg, [...next]);
    else if (isPlainObject(next)) setField(cur, seg, { ...next });
    else break;
    cur = cur[seg] as Document;
  }
  setPath(out, path, value);
}

function applyProjectionOp(doc: Document, out: Document, path: string, spec: Document): void {
  const v = getPath(doc, path);
  if (!Array.isArray(v)) return;
  if ('$slice' in spec) {
    const s = spec.$slice as unknown;
    const [skip, lim] = Array.isArray(s) ? [Number(s[0]), Number(s[1])] : Number(s) >= 0 ? [0, Number(s)] : [Number(s), undefined];
    const from = skip < 0 ? Math.max(v.length + skip, 0) : skip;
    setOwnPath(out, path, v.slice(from, lim === undefined ? undefined : from + lim));
  } else {
    const test = compileValueFilter(spec.$elemMatch as Document);
    const hit = v.find((el) => isPlainObject(el) && test(el));
    if (hit === undefined) delete out[path];
    else setField(out, path, [hit]);
  }
}
