/** insert / update / delete with mongod's ordered-batch and writeErrors semantics. */
import { ObjectId } from 'bson';
import type { Document } from 'bson';
import type { Collection } from '../collection.ts';
import { sameCanonical } from '../bson-order.ts';
import { asFault, badValue } from '../errors.ts';
import type { JournalOp } from '../persistence/contract.ts';
import type { DocRecord } from '../record.ts';
import { applyUpdate, isOperatorUpdate, upsertSeed } from '../update.ts';
import { isPlainObject } from '../values.ts';
import { decodeStored, hasDollarField } from '../raw-bson.ts';
import { rawSequence } from '../wire.ts';
import type { CommandContext, CommandHandler } from './types.ts';
import { collName, optNumber } from './util.ts';

export interface UpdateSpec {
  q: Document;
  u: Document | Document[];
  upsert?: boolean;
  multi?: boolean;
  arrayFilters?: Document[];
}

export interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  /** The last document written (or matched when unchanged), before and after. */
  before?: Document;
  after?: Document;
}

/** Applies one update statement; throws on the first failure, keeping what was already written. */
export function runUpdate(coll: Collection | undefined, spec: UpdateSpec, ops: JournalOp[], ensure: () => Collection, chosen?: DocRecord[]): UpdateOutcome {
  const { q, u } = spec;
  if (!isPlainObject(q)) throw badValue('update statement requires a query object');
  if (!isPlainObject(u) && !Array.isArray(u)) throw badValue('update statement requires an update document or pipeline');
  const hits = chosen ?? (coll ? coll.match(q, spec.multi ? Infinity : 1) : []);
  if (hits.length === 0) {
    if (!spec.upsert) return { matched: 0, modified: 0 };
    const target = ensure();
    const seed = upsertSeed(q);
    let doc = Array.isArray(u) || isOperatorUpdate(u) ? applyUpdate(seed, u, { filter: q, arrayFilters: spec.arrayFilters, inserting: true }) : applyUpdate({}, u, { filter: q, inserting: true });
    if (doc._id === undefined) doc = { _id: seed._id ?? new ObjectId(), ...doc };
    const rec = target.insert(doc);
    ops.push({ op: 'put', db: target.db, coll: target.name, doc: rec.doc });
    return { matched: 0, modified: 0, upsertedId: rec.doc._id, after: rec.doc };
  }
  const out: UpdateOutcome = { matched: hits.length, modified: 0 };
  const target = coll as Collection;
  for (const rec of hits) {
    const next = applyUpdate(rec.doc, u, { filter: q, arrayFilters: spec.arrayFilters, inserting: false });
    out.before = rec.doc;
    out.after = rec.doc;
    if (sameCanonical(next, rec.doc)) continue;
    const updated = target.replace(rec, next);
    ops.push({ op: 'put', db: target.db, coll: target.name, doc: updated.doc });
    out.after = updated.doc;
    out.modified++;
  }
  return out;
}

function writeError(index: number, err: unknown): Document {
  const f = asFault(err);
  return { index, code: f.code, errmsg: f.message, ...f.extra };
}

function statements(cmd: Document, field: string): Document[] {
  const list = cmd[field];
  if (!Array.isArray(list)) throw badValue(`'${field}' must be an array`);
  return list as Document[];
}

/** Runs statements in order inside one journaled write, stopping at the first error when ordered. */
async function batch<S>(ctx: CommandContext, cmd: Document, list: readonly S[], each: (s: S, i: number, ops: JournalOp[]) => void): Promise<Document[]> {
  const ordered = cmd.ordered !== false;
  return ctx.engine.write((ops) => {
    const errors: Document[] = [];
    for (let i = 0; i < list.length; i++) {
      try {
        each(list[i] as S, i, ops);
      } catch (err) {
        errors.push(writeError(i, err));
        if (ordered) break;
      }
    }
    return errors;
  });
}

const withErrors = (reply: Document, errors: Document[]): Document => (errors.length ? { ...reply, writeErrors: errors } : reply);

/** Documents from a wire document sequence are stored as their (copied) bytes, never decoded here. */
const insert: CommandHandler = async (cmd, ctx) => {
  const name = collName(cmd, 'insert');
  let n = 0;
  const store = (ops: JournalOp[], add: (coll: Collection) => DocRecord): void => {
    const rec = add(ctx.engine.ensureCollection(ctx.db, name, ops));
    ops.push({ op: 'put', db: ctx.db, coll: name, doc: rec.bson ?? rec.doc });
    n++;
  };
  const insertDoc = (doc: unknown, ops: JournalOp[]): void => {
    if (!isPlainObject(doc)) throw badValue('document to insert must be an object');
    store(ops, (coll) => coll.insert(doc));
  };
  const raws = rawSequence(cmd, 'documents');
  const errors = raws
    ? await batch(ctx, cmd, raws, (raw, _i, ops) => {
        const bytes = Buffer.from(raw);
        if (hasDollarField(bytes)) insertDoc(decodeStored(bytes), ops);
        else store(ops, (coll) => coll.insertBson(bytes));
      })
    : await batch(ctx, cmd, statements(cmd, 'documents'), (doc, _i, ops) => insertDoc(doc, ops));
  return withErrors({ n, ok: 1 }, errors);
};

const update: CommandHandler = async (cmd, ctx) => {
  const name = collName(cmd, 'update');
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const errors = await batch(ctx, cmd, statements(cmd, 'updates'), (s, i, ops) => {
    const r = runUpdate(ctx.engine.collection(ctx.db, name), s as UpdateSpec, ops, () => ctx.engine.ensureCollection(ctx.db, name, ops));
    n += r.matched;
    nModified += r.modified;
    if (r.upsertedId !== undefined) {
      n++;
      upserted.push({ index: i, _id: r.upsertedId });
    }
  });
  const reply: Document = { n, nModified, ok: 1 };
  if (upserted.length) reply.upserted = upserted;
  return withErrors(reply, errors);
};

const del: CommandHandler = async (cmd, ctx) => {
  const name = collName(cmd, 'delete');
  let n = 0;
  const errors = await batch(ctx, cmd, statements(cmd, 'deletes'), (s, _i, ops) => {
    if (!isPlainObject(s.q)) throw badValue('delete statement requires a query object');
    const limit = optNumber(s, 'limit') ?? 0;
    const coll = ctx.engine.collection(ctx.db, name);
    if (!coll) return;
    for (const rec of coll.match(s.q, limit === 1 ? 1 : Infinity)) {
      coll.remove(rec);
      ops.push({ op: 'del', db: ctx.db, coll: name, id: rec.doc._id });
      n++;
    }
  });
  return withErrors({ n, ok: 1 }, errors);
};

export const writeCommands: Record<string, CommandHandler> = { insert, update, delete: del };
