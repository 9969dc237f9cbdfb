/** Applies update documents (operators, replacements, simple pipelines) to a copy of a stored document. */
import { Decimal128, Double, Long, Timestamp } from 'bson';
import type { Document } from 'bson';
import { canonicalKey, compareValues } from './bson-order.ts';
import { MongoServerFault, badValue } from './errors.ts';
import { PathError, getPath, setPath, unsetPath } from './paths.ts';
import { compileValueFilter, makeAggregator, positionalIndex, sortDocs, specView } from './query.ts';
import type { SortSpec } from './query.ts';
import { cloneDoc, fromView, isInt32Range, isLong, isPlainObject, normalize, numericValue, toView } from './values.ts';

export interface UpdateContext {
  filter: Document;
  arrayFilters?: Document[];
  /** Set while building an upsert's new document: enables $setOnInsert. */
  inserting: boolean;
}

const OPERATORS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$currentDate', '$push', '$addToSet', '$pop', '$pull', '$pullAll', '$setOnInsert']);
const PIPELINE_STAGES = new Set(['$set', '$addFields', '$unset', '$project', '$replaceRoot', '$replaceWith']);

export const isOperatorUpdate = (u: Document): boolean => Object.keys(u).some((k) => k.startsWith('$'));

/** Returns the new document (a fresh object; `doc` is never mutated). */
export function applyUpdate(doc: Document, update: Document | Document[], ctx: UpdateContext): Document {
  let out: Document;
  if (Array.isArray(update)) out = applyPipeline(doc, update);
  else if (!isOperatorUpdate(update)) {
    out = { ...cloneDoc(update) };
    if (doc._id !== undefined) out = { _id: doc._id, ...out };
  } else {
    out = cloneDoc(doc);
    try {
      applyOperators(out, update, ctx);
    } catch (err) {
      if (err instanceof PathError) throw new MongoServerFault(28, err.message);
      throw err;
    }
  }
  if (doc._id !== undefined && canonicalKey(out._id) !== canonicalKey(doc._id)) {
    throw new MongoServerFault(66, `Performing an update on the path '_id' would modify the immutable field '_id'`);
  }
  return out;
}

function applyPipeline(doc: Document, stages: Document[]): Document {
  for (const s of stages) {
    const name = Object.keys(s)[0] ?? '';
    if (!PIPELINE_STAGES.has(name)) throw badValue(`${name} is not allowed to be used within an update`);
  }
  const [result] = makeAggregator(specView(stages, true) as Document[]).run([cloneDoc(toView(doc) as Document)]);
  if (!result) throw badValue('update pipeline produced no document');
  return normalize(cloneDoc(fromView(result))) as Document;
}

function applyOperators(doc: Document, update: Document, ctx: UpdateContext): void {
  const seen: string[] = [];
  const claim = (path: string): void => {
    for (const other of seen) {
      if (other === path || other.startsWith(path + '.') || path.startsWith(other + '.')) {
        const shorter = other.length < path.length ? other : path;
        throw new MongoServerFault(40, `Updating the path '${path}' would create a conflict at '${shorter}'`);
      }
    }
    seen.push(path);
  };
  for (const [op, spec] of Object.entries(update)) {
    if (!OPERATORS.has(op)) throw new MongoServerFault(9, `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    if (!isPlainObject(spec)) throw new MongoServerFault(9, `Modifiers operate on fields but we found type ${typeof spec} instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(spec)}}`);
    for (const [path, arg] of Object.entries(spec)) {
      claim(path);
      if (op === '$rename') {
        if (typeof arg !== 'string') throw badValue(`The 'to' field for $rename must be a string: ${path}: ${String(arg)}`);
        claim(arg);
      }
    }
  }
  for (const [op, spec] of Object.entries(update) as Array<[string, Document]>) {
    if (op === '$setOnInsert' && !ctx.inserting) continue;
    for (const [rawPath, arg] of Object.entries(spec)) {
      for (const path of expandPath(doc, rawPath, ctx)) applyOne(doc, op, path, arg);
    }
  }
}

/** Resolves `$`, `$[]` and `$[id]` segments into concrete paths for this document. */
function expandPath(doc: Document, path: string, ctx: UpdateContext): string[] {
  if (!path.includes('$')) return [path];
  const segs = path.split('.');
  let prefixes = [''];
  for (const seg of segs) {
    if (!seg.startsWith('$')) {
      prefixes = prefixes.map((p) => (p ? `${p}.${seg}` : seg));
      continue;
    }
    const next: string[] = [];
    for (const p of prefixes) {
      const arr = getPath(doc, p);
      if (!Array.isArray(arr)) {
        if (ctx.inserting) continue;
        throw badValue(`The path '${p}' must exist in the document in order to apply array updates.`);
      }
      if (seg === '$') next.push(`${p}.${positionalIndex(arr, p, ctx.filter)}`);
      else if (seg === '$[]') arr.forEach((_, i) => next.push(`${p}.${i}`));
      else {
        const m = /^\$\[(\w+)\]$/.exec(seg);
        if (!m) throw badValue(`Unrecognised positional segment '${seg}' in '${path}'`);
        const test = arrayFilterFor(m[1] as string, ctx.arrayFilters);
        arr.forEach((el, i) => {
          if (test(el)) next.push(`${p}.${i}`);
        });
      }
    }
    prefixes = next;
  }
  return prefixes;
}

function arrayFilterFor(id: string, filters: Document[] | undefined): (el: unknown) => boolean {
  const f = filters?.find((af) => Object.keys(af).some((k) => k === id || k.startsWith(id + '.')));
  if (!f) throw badValue(`No array filter found for identifier '${id}'`);
  const test = compileValueFilter(f);
  return (el) => test({ [id]: el });
}

type NumKind = 0 | 1 | 2 | 3; // int, long, double, decimal — promotion order

function numKind(v: unknown): NumKind | undefined {
  if (typeof v === 'number') return isInt32Range(v) ? 0 : 2;
  if (isLong(v)) return 1;
  if (v instanceof Double) return 2;
  if (v instanceof Decimal128) return 3;
  return undefined;
}

/** A double result in the hybrid representation (integral values keep a Double wrapper). */
const asDouble = (n: number): unknown => (isInt32Range(n) || Object.is(n, -0) ? new Double(n) : n);

function arith(op: '$inc' | '$mul', cur: unknown, arg: unknown): unknown {
  const kind = Math.max(numKind(cur) as number, numKind(arg) as number) as NumKind;
  const a = numericValue(cur) as number;
  const b = numericValue(arg) as number;
  if (kind === 3) return Decimal128.fromString(String(op === '$inc' ? a + b : a * b));
  if (kind === 2) return asDouble(op === '$inc' ? a + b : a * b);
  if (kind === 1) {
    const la = Long.fromValue(cur as Long | number);
    const lb = Long.fromValue(arg as Long | number);
    return op === '$inc' ? la.add(lb) : la.multiply(lb);
  }
  const r = op === '$inc' ? a + b : a * b;
  // mongod promotes int32 overflow to int64.
  return isInt32Range(r) ? r : Long.fromNumber(r);
}

function idText(doc: Document): string {
  return `{_id: ${JSON.stringify(doc._id)}}`;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  return typeof v === 'object' ? (v as { _bsontype?: string })._bsontype ?? 'object' : typeof v;
}

function arrayAt(doc: Document, path: string): unknown[] | undefined {
  const cur = getPath(doc, path);
  if (cur === undefined) return undefined;
  if (!Array.isArray(cur)) {
    throw badValue(`The field '${path}' must be an array but is of type ${typeName(cur)} in document ${idText(doc)}`);
  }
  return cur;
}

function applyOne(doc: Document, op: string, path: string, arg: unknown): void {
  switch (op) {
    case '$set':
    case '$setOnInsert':
      setPath(doc, path, cloneDoc(arg));
      return;
    case '$unset':
      unsetPath(doc, path);
      return;
    case '$inc':
    case '$mul': {
      if (numKind(arg) === undefined) throw badValue(`Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${JSON.stringify(arg)}}`);
      const cur = getPath(doc, path);
      if (cur !== undefined && numKind(cur) === undefined) {
        throw new MongoServerFault(14, `Cannot apply ${op} to a value of non-numeric type. ${idText(doc)} has the field '${path}' of non-numeric type ${typeName(cur)}`);
      }
      setPath(doc, path, arith(op, cur ?? 0, op === '$mul' && cur === undefined ? 0 : arg));
      return;
    }
    case '$min':
    case '$max': {
      const cur = getPath(doc, path);
      const c = cur === undefined ? 0 : compareValues(arg, cur);
      if (cur === undefined || (op === '$min' ? c < 0 : c > 0)) setPath(doc, path, cloneDoc(arg));
      return;
    }
    case '$rename': {
      const cur = getPath(doc, path);
      if (cur === undefined) return;
      unsetPath(doc, path);
      setPath(doc, arg as string, cur);
      return;
    }
    case '$currentDate': {
      const wantsTs = isPlainObject(arg) && arg.$type === 'timestamp';
      setPath(doc, path, wantsTs ? new Timestamp({ t: Math.floor(Date.now() / 1000), i: 1 }) : new Date());
      return;
    }
    case '$push':
    case '$addToSet': {
      const arr = arrayAt(doc, path) ?? [];
      const hasEach = isPlainObject(arg) && '$each' in arg;
      const items = hasEach ? (arg.$each as unknown[]) : [arg];
      if (!Array.isArray(items)) throw badValue(`The argument to $each in ${op} must be an array`);
      let next = arr.slice();
      if (op === '$addToSet') {
        const have = new Set(next.map(canonicalKey));
        for (const it of items) {
          const k = canonicalKey(it);
          if (!have.has(k)) {
            have.add(k);
            next.push(cloneDoc(it));
          }
        }
      } else {
        const mods = hasEach ? (arg as Document) : {};
        const pos = numericValue(mods.$position);
        const at = pos === undefined ? next.length : pos < 0 ? Math.max(next.length + pos, 0) : Math.min(pos, next.length);
        next.splice(at, 0, ...items.map(cloneDoc));
        if (mods.$sort !== undefined) next = sortArray(next, mods.$sort);
        const slice = numericValue(mods.$slice);
        if (slice !== undefined) next = slice >= 0 ? next.slice(0, slice) : next.slice(slice);
      }
      setPath(doc, path, next);
      return;
    }
    case '$pop': {
      const arr = arrayAt(doc, path);
      if (!arr || arr.length === 0) return;
      setPath(doc, path, (numericValue(arg) ?? 1) < 0 ? arr.slice(1) : arr.slice(0, -1));
      return;
    }
    case '$pull':
    case '$pullAll': {
      const arr = arrayAt(doc, path);
      if (!arr) return;
      const drop = op === '$pullAll' ? pullAllTest(arg) : pullTest(arg);
      setPath(doc, path, arr.filter((el) => !drop(el)));
      return;
    }
    default:
      throw badValue(`Unknown modifier: ${op}`);
  }
}

function sortArray(arr: unknown[], spec: unknown): unknown[] {
  if (typeof spec === 'number' || numericValue(spec) !== undefined) {
    const dir = numericValue(spec) as number;
    return arr.slice().sort((a, b) => compareValues(a, b) * dir);
  }
  if (!isPlainObject(spec)) throw badValue('The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields');
  const parsed: SortSpec = Object.entries(spec).map(([k, v]) => [k, (numericValue(v) ?? 1) < 0 ? -1 : 1]);
  return sortDocs(arr as Document[], parsed);
}

function pullAllTest(arg: unknown): (el: unknown) => boolean {
  if (!Array.isArray(arg)) throw badValue('$pullAll requires an array argument');
  const keys = new Set(arg.map(canonicalKey));
  return (el) => keys.has(canonicalKey(el));
}

function pullTest(cond: unknown): (el: unknown) => boolean {
  if (isPlainObject(cond)) {
    if (Object.keys(cond).some((k) => k.startsWith('$'))) {
      const test = compileValueFilter({ v: cond });
      return (el) => test({ v: el });
    }
    const test = compileValueFilter(cond);
    return (el) => isPlainObject(el) && test(el);
  }
  const key = canonicalKey(cond);
  return (el) => canonicalKey(el) === key;
}

/** Seeds an upsert's document from the filter's equality conditions (top level and $and). */
export function upsertSeed(filter: Document): Document {
  const doc: Document = {};
  const visit = (f: Document): void => {
    for (const [k, v] of Object.entries(f)) {
      if (k === '$and' && Array.isArray(v)) {
        for (const b of v) if (isPlainObject(b)) visit(b);
        continue;
      }
      if (k.startsWith('$')) continue;
      if (isPlainObject(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
        if ('$eq' in v) setPath(doc, k, cloneDoc(v.$eq));
        else if (Array.isArray(v.$in) && v.$in.length === 1) setPath(doc, k, cloneDoc(v.$in[0]));
        continue;
      }
      if (v instanceof RegExp) continue;
      setPath(doc, k, cloneDoc(v));
    }
  };
  visit(filter);
  return doc;
}
