/**
 * One index: a hash map from canonical key to records (O(1) equality and uniqueness) plus a sorted
 * list of key tuples (ranges and ordered scans). Multikey: one entry per distinct array element.
 * The sorted list is built on the first ordered read and maintained from then on, so an index only
 * ever used for equality and uniqueness (most unique keys) never pays for ordering, and a unique
 * index keeps nothing per document but its key and the record.
 *
 * Entries with equal keys are ordered by when they joined the key (`seq`), which is the order the
 * hash group yields them too. The sequence makes the order total, so finding one document's entry
 * among 100,000 sharing a key (every finished job's status) is a binary search, not a walk.
 */
import type { Document } from 'bson';
import { ObjectId } from 'bson';
import { canonicalKey, compareValues, sortableKey } from './bson-order.ts';
import type { IndexDefinition } from './persistence/contract.ts';
import { MongoServerFault, badValue } from './errors.ts';
import { collectPath } from './paths.ts';
import type { Matcher } from './query.ts';
import { DocRecord } from './record.ts';
import { compileFilter } from './query.ts';
import { isPlainObject, numericValue, setField } from './values.ts';
import { SortedList } from './sorted-list.ts';

export interface IndexEntry {
  vals: unknown[];
  /** sortableKey(vals) when the index directions allow it; compares like vals. */
  sk: string | undefined;
  rec: DocRecord;
  /** When the record joined this key (per index, increasing); 0 in a unique index, where keys never tie. */
  seq: number;
}

/** The records under one key of a non-unique index, in insertion order, each with the seq of its entry. */
interface KeyGroup {
  vals: unknown[];
  recs: Map<DocRecord, number>;
  /** The key's sortable form, computed once for all its entries (a tie group can hold 100,000). */
  sk?: string | undefined;
}

/**
 * A key of a non-unique index held by one record so far — most keys of most indexes (a contact's
 * id on its jobs): a Map per key would be a hundred thousand Maps per planned slot, for nothing.
 */
class SoloKey {
  constructor(
    readonly vals: unknown[],
    readonly rec: DocRecord,
    readonly seq: number,
  ) {}
}

type Slot = DocRecord | SoloKey | KeyGroup;

interface IndexKey {
  vals: unknown[];
  hash: string;
}

export type IndexKeys = IndexKey[];

/** Index types we keep in the catalogue but never use to answer queries. */
const INERT_TYPES = new Set(['text', '2d', '2dsphere', 'geoHaystack']);

export class Index {
  readonly def: IndexDefinition;
  readonly fields: Array<[string, number]>;
  /** Text/geo indexes are listed but not maintained. */
  readonly inert: boolean;
  multikey = false;
  private readonly keyDir: number;
  /** The field of a single-field, non-dotted index: the common case gets a fast key path. */
  private readonly single: string | undefined;
  /** The fields of a compound index on top-level fields only, read without decoding the document. */
  private readonly topLevel: string[] | undefined;
  private readonly partial: Matcher | undefined;
  /** Unique indexes map a key to its one record, others to a group. */
  private readonly hash = new Map<string, Slot>();
  private readonly compare: (a: IndexEntry, b: IndexEntry) => number;
  private ordered: SortedList<IndexEntry> | undefined;
  private nextSeq = 1;

  constructor(def: IndexDefinition) {
    this.def = def;
    if (!isPlainObject(def.key) || Object.keys(def.key).length === 0) throw new MongoServerFault(67, 'Index keys cannot be empty.');
    this.inert = Object.values(def.key).some((v) => typeof v === 'string' && INERT_TYPES.has(v));
    this.fields = Object.entries(def.key).map(([k, v]) => [k, typeof v === 'string' ? 1 : (numericValue(v) ?? 1) < 0 ? -1 : 1]);
    if (this.inert && def.unique) throw new MongoServerFault(67, `unique ${JSON.stringify(def.key)} indexes are not supported by the embedded server`);
    this.single = this.fields.length === 1 && !(this.fields[0]?.[0] ?? '.').includes('.') ? this.fields[0]?.[0] : undefined;
    this.topLevel = this.fields.length > 1 && this.fields.every(([f]) => !f.includes('.')) ? this.fields.map(([f]) => f) : undefined;
    this.partial = def.partialFilterExpression ? compileFilter(def.partialFilterExpression) : undefined;
    const dirs = this.fields.map(([, d]) => d);
    // A string key only works when every field sorts the same way; mixed directions compare field by field.
    this.keyDir = dirs.every((d) => d === dirs[0]) ? (dirs[0] as number) : 0;
    const kd = this.keyDir;
    this.compare = (a, b) => {
      if (a.sk !== undefined && b.sk !== undefined) return a.sk < b.sk ? -kd : a.sk > b.sk ? kd : a.seq - b.seq;
      return compareTuples(a.vals, b.vals, dirs) || a.seq - b.seq;
    };
  }

  /** Entries in key order (ties in insertion order). */
  get sorted(): SortedList<IndexEntry> {
    if (this.ordered === undefined) {
      const entries: IndexEntry[] = [];
      // A multikey record sits under several keys of a unique index; its entries come from keysFor once.
      const seen = this.unique && this.multikey ? new Set<DocRecord>() : undefined;
      for (const slot of this.hash.values()) {
        if (slot instanceof DocRecord) {
          if (seen?.has(slot)) continue;
          seen?.add(slot);
          for (const k of this.keysFor(slot)) entries.push(this.entry(slot, k.vals, 0));
        } else if (slot instanceof SoloKey) entries.push(this.entry(slot.rec, slot.vals, slot.seq));
        else for (const [rec, seq] of slot.recs) entries.push(this.entry(rec, slot.vals, seq));
      }
      this.ordered = new SortedList(this.compare);
      this.ordered.load(entries);
    }
    return this.ordered;
  }

  private entry(rec: DocRecord, vals: unknown[], seq: number): IndexEntry {
    return { vals, sk: this.entryKey(vals), rec, seq };
  }

  get name(): string {
    return this.def.name;
  }

  /** _id_ is unique without saying so (mongod lists it without the flag). */
  get unique(): boolean {
    return this.def.unique === true || this.def.name === '_id_';
  }

  get ttlField(): string | undefined {
    return this.def.expireAfterSeconds !== undefined && this.fields.length === 1 ? this.fields[0]?.[0] : undefined;
  }

  /** Whether the index can answer an equality on `null` (sparse/partial indexes omit such docs). */
  get complete(): boolean {
    return !this.def.sparse && !this.partial && !this.inert;
  }

  get isPartial(): boolean {
    return this.partial !== undefined;
  }

  /** Distinct key tuples for a document; empty when the index excludes it. */
  keysFor(rec: DocRecord): IndexKey[] {
    if (this.inert) return [];
    if (this.partial && !this.partial(rec)) return [];
    if (this.single !== undefined) {
      const v = rec.field(this.single);
      if (!Array.isArray(v) && !(v === undefined && this.def.sparse) && !isPlainObject(v)) return [{ vals: [v], hash: canonicalKey(v) }];
      if (Array.isArray(v) && this.single === '_id') throw new MongoServerFault(53, "The '_id' value cannot be of type array");
    }
    if (this.topLevel !== undefined) {
      // Scalars make one tuple, as the general path below would; arrays and subdocuments go through it.
      const vals: unknown[] = [];
      let present = false;
      for (const f of this.topLevel) {
        const v = rec.field(f);
        if (Array.isArray(v) || isPlainObject(v)) break;
        if (v !== undefined) present = true;
        vals.push(v);
      }
      if (vals.length === this.topLevel.length) return !present && this.def.sparse ? [] : [{ vals, hash: tupleHash(vals) }];
    }
    const perField = this.fields.map(([path]) => {
      const vals = collectPath(rec.doc, path).flatMap((v) => (Array.isArray(v) ? (v.length ? v : [undefined]) : [v]));
      return vals.length ? vals : [undefined];
    });
    if (this.def.sparse && perField.every((vs) => vs.every((v) => v === undefined))) return [];
    let tuples: unknown[][] = [[]];
    for (const vs of perField) tuples = tuples.flatMap((t) => vs.map((v) => [...t, v]));
    const seen = new Map<string, IndexKey>();
    for (const vals of tuples) {
      const hash = tupleHash(vals);
      if (!seen.has(hash)) seen.set(hash, { vals, hash });
    }
    return [...seen.values()];
  }

  /** Throws the duplicate-key fault if adding `rec` would collide with a record other than `self`. */
  checkUnique(ns: string, keys: IndexKey[], self?: DocRecord): void {
    if (!this.unique) return;
    for (const k of keys) {
      const hit = this.hash.get(k.hash);
      if (hit && hit !== self) throw this.duplicateFault(ns, k.vals);
    }
  }

  duplicateFault(ns: string, vals: unknown[]): MongoServerFault {
    const keyValue: Document = {};
    this.fields.forEach(([p], i) => setField(keyValue, p, vals[i] ?? null));
    const shown = this.fields.map(([p], i) => `${p}: ${formatValue(vals[i])}`).join(', ');
    return new MongoServerFault(11000, `E11000 duplicate key error collection: ${ns} index: ${this.name} dup key: { ${shown} }`, {
      keyPattern: this.def.key,
      keyValue,
    });
  }

  add(rec: DocRecord, keys = this.keysFor(rec)): void {
    if (keys.length > 1) this.multikey = true;
    for (const k of keys) {
      let seq = 0;
      let group: KeyGroup | undefined;
      if (this.unique) this.hash.set(k.hash, rec);
      else {
        seq = this.nextSeq++;
        const slot = this.hash.get(k.hash) as SoloKey | KeyGroup | undefined;
        if (slot === undefined || (slot instanceof SoloKey && slot.rec === rec)) this.hash.set(k.hash, new SoloKey(k.vals, rec, seq));
        else if (slot instanceof SoloKey) {
          group = { vals: slot.vals, recs: new Map<DocRecord, number>().set(slot.rec, slot.seq).set(rec, seq) };
          this.hash.set(k.hash, group);
        } else (group = slot).recs.set(rec, seq);
      }
      if (!this.ordered) continue;
      // Entries of one key share its values and sortable form instead of each holding copies.
      if (group) this.ordered.insert({ vals: group.vals, sk: (group.sk ??= this.entryKey(group.vals)), rec, seq });
      else this.ordered.insert(this.entry(rec, k.vals, seq));
    }
  }

  remove(rec: DocRecord, keys = this.keysFor(rec)): void {
    for (const k of keys) {
      const slot = this.hash.get(k.hash);
      if (slot === undefined) continue;
      let seq = 0;
      if (slot === rec) this.hash.delete(k.hash);
      else if (slot instanceof SoloKey) {
        if (slot.rec !== rec) continue;
        seq = slot.seq;
        this.hash.delete(k.hash);
      } else if (!(slot instanceof DocRecord)) {
        const s = slot.recs.get(rec);
        if (s === undefined) continue;
        seq = s;
        slot.recs.delete(rec);
        if (slot.recs.size === 0) this.hash.delete(k.hash);
      } else continue;
      this.ordered?.remove({ vals: k.vals, sk: this.entryKey(k.vals), rec, seq }, (e) => e.rec === rec);
    }
  }

  private entryKey(vals: unknown[]): string | undefined {
    return this.keyDir === 0 ? undefined : sortableKey(vals);
  }

  /** Records whose key tuple equals `vals` exactly. */
  lookup(vals: unknown[]): Iterable<DocRecord> {
    const slot = this.hash.get(tupleHash(vals));
    if (slot === undefined) return [];
    if (slot instanceof DocRecord) return [slot];
    return slot instanceof SoloKey ? [slot.rec] : slot.recs.keys();
  }
}

export const tupleHash = (vals: unknown[]): string => (vals.length === 1 ? canonicalKey(vals[0]) : vals.map(canonicalKey).join('\u0001'));

function compareTuples(a: unknown[], b: unknown[], dirs: number[]): number {
  for (let i = 0; i < dirs.length; i++) {
    const c = compareValues(a[i], b[i]);
    if (c) return c * (dirs[i] as number);
  }
  return 0;
}

/** mongod's shell-like rendering of a key value in E11000 messages. */
function formatValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (Array.isArray(v)) return `[ ${v.map(formatValue).join(', ')} ]`;
  if (isPlainObject(v)) return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${formatValue(x)}`).join(', ')} }`;
  const n = numericValue(v);
  return n !== undefined ? String(n) : String(v);
}

/** Normalises and validates a createIndexes spec. */
export function indexDefinitionFrom(spec: Document): IndexDefinition {
  if (!isPlainObject(spec.key)) throw badValue('index specification must contain a key object');
  const def: IndexDefinition = {
    name: typeof spec.name === 'string' ? spec.name : defaultIndexName(spec.key),
    key: spec.key,
  };
  if (spec.unique === true || spec.unique === 1) def.unique = true;
  if (spec.sparse === true || spec.sparse === 1) def.sparse = true;
  if (isPlainObject(spec.partialFilterExpression)) def.partialFilterExpression = spec.partialFilterExpression;
  const ttl = numericValue(spec.expireAfterSeconds);
  if (ttl !== undefined) def.expireAfterSeconds = ttl;
  return def;
}

export const defaultIndexName = (key: Document): string => Object.entries(key).map(([k, v]) => `${k}_${String(numericValue(v) ?? v)}`).join('_');

/** Whether two definitions describe the same index (createIndexes is idempotent for those). */
export function sameIndex(a: IndexDefinition, b: IndexDefinition): boolean {
  return canonicalKey(a.key) === canonicalKey(b.key) && !!a.unique === !!b.unique && !!a.sparse === !!b.sparse
    && canonicalKey(a.partialFilterExpression) === canonicalKey(b.partialFilterExpression)
    && a.expireAfterSeconds === b.expireAfterSeconds;
}
