/** One collection: records keyed by canonical _id (insertion order = natural order) plus its indexes. */
import { ObjectId } from 'bson';
import type { Document } from 'bson';
import { canonicalKey } from './bson-order.ts';
import { MongoServerFault } from './errors.ts';
import { Index, sameIndex } from './indexes.ts';
import type { IndexKeys } from './indexes.ts';
import type { IndexDefinition } from './persistence/contract.ts';
import { plan } from './planner.ts';
import type { Plan } from './planner.ts';
import { compileFilter, sortRecords } from './query.ts';
import type { SortSpec } from './query.ts';
import { DocRecord } from './record.ts';

const sameKeys = (a: IndexKeys, b: IndexKeys): boolean => a.length === b.length && a.every((k, i) => k.hash === b[i]?.hash);

export const ID_INDEX: IndexDefinition = { name: '_id_', key: { _id: 1 } };

export class Collection {
  readonly records = new Map<string, DocRecord>();
  readonly indexes: Index[] = [new Index(ID_INDEX)];

  constructor(readonly db: string, readonly name: string, readonly options: Document = {}) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  /** Inserts a document, assigning an ObjectId _id first if it has none. Throws 11000 on conflict. */
  insert(doc: Document): DocRecord {
    return this.add(DocRecord.of(doc._id === undefined ? { _id: new ObjectId(), ...doc } : doc));
  }

  /**
   * Inserts a document given as checked BSON (see checkDocument), kept undecoded. One without an
   * _id is decoded and gets one, like insert(); callers journal `rec.bson ?? rec.doc`. A document
   * with a top-level `$` name must be decoded and checked by the caller instead (see hasDollarField).
   */
  insertBson(bytes: Uint8Array): DocRecord {
    const rec = DocRecord.fromBson(bytes);
    const idKeys = (this.indexes[0] as Index).keysFor(rec);
    return idKeys[0]?.vals[0] === undefined ? this.insert(rec.doc) : this.add(rec, idKeys);
  }

  private add(rec: DocRecord, idKeys = (this.indexes[0] as Index).keysFor(rec)): DocRecord {
    const indexes = this.indexes;
    const ns = this.ns;
    const keys: IndexKeys[] = new Array(indexes.length);
    for (let i = 0; i < indexes.length; i++) {
      const ks = i === 0 ? idKeys : (indexes[i] as Index).keysFor(rec);
      (indexes[i] as Index).checkUnique(ns, ks);
      keys[i] = ks;
    }
    for (let i = 0; i < indexes.length; i++) (indexes[i] as Index).add(rec, keys[i]);
    // indexes[0] is _id_ (never an array, so exactly one key): its key is the record's key.
    this.records.set((idKeys[0] as { hash: string }).hash, rec);
    return rec;
  }

  /**
   * Swaps a record's document (given decoded, or as checked BSON) in place; the _id never changes.
   * On a unique conflict nothing changes.
   */
  replace(rec: DocRecord, doc: Document | Uint8Array): DocRecord {
    const next = doc instanceof Uint8Array ? DocRecord.fromBson(doc) : DocRecord.of(doc);
    const changes: Array<[Index, IndexKeys, IndexKeys]> = [];
    for (const ix of this.indexes) {
      const oldKeys = ix.keysFor(rec);
      const newKeys = ix.keysFor(next);
      if (sameKeys(oldKeys, newKeys)) continue;
      ix.checkUnique(this.ns, newKeys, rec);
      changes.push([ix, oldKeys, newKeys]);
    }
    for (const [ix, oldKeys] of changes) ix.remove(rec, oldKeys);
    rec.assume(next);
    for (const [ix, , newKeys] of changes) ix.add(rec, newKeys);
    return rec;
  }

  remove(rec: DocRecord): void {
    for (const ix of this.indexes) ix.remove(rec);
    this.records.delete(canonicalKey(rec.field('_id')));
  }

  getById(id: unknown): DocRecord | undefined {
    return this.records.get(canonicalKey(id));
  }

  plan(filter: Document | undefined, sort?: SortSpec): Plan {
    return plan(this.records, this.indexes, filter, sort);
  }

  /** Matching records, materialised so callers may write while holding them. */
  match(filter: Document | undefined, limit = Infinity): DocRecord[] {
    const p = this.plan(filter);
    const test = p.exact ? undefined : compileFilter(filter);
    const out: DocRecord[] = [];
    for (const rec of p.candidates) {
      if (test && !test(rec)) continue;
      out.push(rec);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * The first matching record in sort order. When an index yields candidates already in that order
   * (a job queue claiming its oldest due item), this stops at the first match instead of sorting all.
   */
  first(filter: Document | undefined, sort: SortSpec | undefined): DocRecord | undefined {
    if (!sort) return this.match(filter, 1)[0];
    const p = this.plan(filter, sort);
    if (p.sorted) {
      const test = p.exact ? undefined : compileFilter(filter);
      for (const rec of p.candidates) if (!test || test(rec)) return rec;
      return undefined;
    }
    return sortRecords(this.match(filter), sort)[0];
  }

  /**
   * Adds an index, validating existing documents first. Returns false if an identical index exists;
   * throws 85/86 on a same-name or same-key conflict.
   */
  createIndex(def: IndexDefinition): boolean {
    for (const ix of this.indexes) {
      if (sameIndex(ix.def, def)) {
        if (ix.name !== def.name) throw new MongoServerFault(85, `Index already exists with a different name: ${ix.name}`);
        return false;
      }
      if (ix.name === def.name) throw new MongoServerFault(86, `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(def)}, existing index: ${JSON.stringify(ix.def)}`);
    }
    const ix = new Index(def);
    const all = [...this.records.values()];
    const keys = all.map((rec) => ix.keysFor(rec));
    if (ix.unique) {
      const seen = new Set<string>();
      for (const ks of keys) {
        for (const k of ks) {
          if (seen.has(k.hash)) throw ix.duplicateFault(this.ns, k.vals);
          seen.add(k.hash);
        }
      }
    }
    all.forEach((rec, i) => ix.add(rec, keys[i]));
    this.indexes.push(ix);
    return true;
  }

  dropIndex(name: string): void {
    const i = this.indexes.findIndex((ix) => ix.name === name);
    if (i < 0) throw new MongoServerFault(27, `index not found with name [${name}]`);
    if (name === '_id_') throw new MongoServerFault(72, 'cannot drop _id index');
    this.indexes.splice(i, 1);
  }
}
