/** Namespace and index management: create/drop, list*, createIndexes/dropIndexes, collMod. */
import type { Document } from 'bson';
import { ID_INDEX } from '../collection.ts';
import { MongoServerFault, badValue } from '../errors.ts';
import { indexDefinitionFrom } from '../indexes.ts';
import { compileFilter } from '../query.ts';
import { DocRecord } from '../record.ts';
import { isPlainObject, numericValue, setField } from '../values.ts';
import type { CommandContext, CommandHandler } from './types.ts';
import { collName, nsOf, optDoc } from './util.ts';

/** Envelope fields drivers attach to every command; never part of collection options. */
const ENVELOPE = new Set(['$db', 'lsid', '$clusterTime', '$readPreference', 'writeConcern', 'readConcern', 'comment', 'maxTimeMS', 'apiVersion', 'apiStrict', 'apiDeprecationErrors']);

function cursorReply(ctx: CommandContext, ns: string, docs: Document[]): Document {
  const { id, batch } = ctx.engine.cursors.start(ns, docs, undefined, false);
  return { cursor: { id, ns, firstBatch: batch }, ok: 1 };
}

const create: CommandHandler = (cmd, ctx) => {
  const name = collName(cmd, 'create');
  if (ctx.engine.collection(ctx.db, name)) throw new MongoServerFault(48, `Collection ${nsOf(ctx, name)} already exists.`);
  const options: Document = {};
  for (const [k, v] of Object.entries(cmd)) if (k !== 'create' && !ENVELOPE.has(k)) setField(options, k, v);
  if (options.viewOn !== undefined || options.timeseries !== undefined) throw badValue('views and time-series collections are not supported by the embedded server');
  return ctx.engine.write((ops) => {
    ctx.engine.ensureCollection(ctx.db, name, ops, options);
    return { ok: 1 };
  });
};

const drop: CommandHandler = (cmd, ctx) => {
  const name = collName(cmd, 'drop');
  const coll = ctx.engine.collection(ctx.db, name);
  if (!coll) throw new MongoServerFault(26, 'ns not found');
  const nIndexesWas = coll.indexes.length;
  return ctx.engine.write((ops) => {
    ctx.engine.dropCollection(ctx.db, name, ops);
    return { ns: nsOf(ctx, name), nIndexesWas, ok: 1 };
  });
};

const dropDatabase: CommandHandler = (_cmd, ctx) =>
  ctx.engine.write((ops) => {
    ctx.engine.dropDatabase(ctx.db, ops);
    return { dropped: ctx.db, ok: 1 };
  });

const listCollections: CommandHandler = (cmd, ctx) => {
  const colls = [...(ctx.engine.dbs.get(ctx.db)?.values() ?? [])];
  const nameOnly = cmd.nameOnly === true;
  const test = compileFilter(optDoc(cmd, 'filter'));
  const docs = colls
    .map((c): Document => (nameOnly ? { name: c.name, type: 'collection' } : {
      name: c.name,
      type: 'collection',
      options: c.options,
      info: { readOnly: false },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    }))
    .filter((d) => test(DocRecord.of(d)));
  return cursorReply(ctx, `${ctx.db}.$cmd.listCollections`, docs);
};

function indexDoc(def: Document): Document {
  const out: Document = { v: 2, key: def.key, name: def.name };
  for (const k of ['unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds']) if (def[k] !== undefined) out[k] = def[k];
  return out;
}

const listIndexes: CommandHandler = (cmd, ctx) => {
  const name = collName(cmd, 'listIndexes');
  const coll = ctx.engine.collection(ctx.db, name);
  if (!coll) throw new MongoServerFault(26, `ns does not exist: ${nsOf(ctx, name)}`);
  return cursorReply(ctx, nsOf(ctx, name), coll.indexes.map((ix) => indexDoc(ix.def as Document)));
};

const createIndexes: CommandHandler = (cmd, ctx) => {
  const name = collName(cmd, 'createIndexes');
  if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0) throw badValue("Must specify at least one index to create");
  const defs = (cmd.indexes as unknown[]).map((spec) => {
    if (!isPlainObject(spec)) throw badValue('index specification must be an object');
    return indexDefinitionFrom(spec);
  });
  return ctx.engine.write((ops) => {
    const existed = ctx.engine.collection(ctx.db, name) !== undefined;
    const coll = ctx.engine.ensureCollection(ctx.db, name, ops);
    const before = coll.indexes.length;
    for (const def of defs) {
      if (def.name === ID_INDEX.name) continue;
      if (coll.createIndex(def)) ops.push({ op: 'createIndex', db: ctx.db, coll: name, index: def });
    }
    const reply: Document = { numIndexesBefore: before, numIndexesAfter: coll.indexes.length, createdCollectionAutomatically: !existed, ok: 1 };
    if (before === coll.indexes.length) reply.note = 'all indexes already exist';
    return reply;
  });
};

const dropIndexes: CommandHandler = (cmd, ctx) => {
  const name = collName(cmd, Object.keys(cmd)[0] as string);
  const coll = ctx.engine.collection(ctx.db, name);
  if (!coll) throw new MongoServerFault(26, `ns not found ${nsOf(ctx, name)}`);
  const spec = cmd.index;
  const nIndexesWas = coll.indexes.length;
  let names: string[];
  if (spec === '*') names = coll.indexes.map((ix) => ix.name).filter((n) => n !== '_id_');
  else if (typeof spec === 'string') names = [spec];
  else if (Array.isArray(spec)) names = spec.map(String);
  else if (isPlainObject(spec)) {
    const key = JSON.stringify(spec);
    const hit = coll.indexes.find((ix) => JSON.stringify(ix.def.key) === key);
    if (!hit) throw new MongoServerFault(27, `can't find index with key: ${key}`);
    names = [hit.name];
  } else throw badValue("'index' must be a string, an array of names or a key pattern");
  for (const n of names) {
    if (!coll.indexes.some((ix) => ix.name === n)) throw new MongoServerFault(27, `index not found with name [${n}]`);
  }
  return ctx.engine.write((ops) => {
    for (const n of names) {
      coll.dropIndex(n);
      ops.push({ op: 'dropIndex', db: ctx.db, coll: name, name: n });
    }
    return { nIndexesWas, ok: 1 };
  });
};

const listDatabases: CommandHandler = (cmd, ctx) => {
  const names = [...ctx.engine.dbs.keys()].sort();
  if (cmd.nameOnly === true) return { databases: names.map((name) => ({ name })), ok: 1 };
  return { databases: names.map((name) => ({ name, sizeOnDisk: 0, empty: false })), totalSize: 0, totalSizeMb: 0, ok: 1 };
};

/** Only TTL changes on an existing index are meaningful here; other options are accepted and kept. */
const collMod: CommandHandler = (cmd, ctx) => {
  const name = collName(cmd, 'collMod');
  const coll = ctx.engine.collection(ctx.db, name);
  if (!coll) throw new MongoServerFault(26, `ns does not exist: ${nsOf(ctx, name)}`);
  const change = optDoc(cmd, 'index');
  if (!change) return { ok: 1 };
  const ix = coll.indexes.find((i) => i.name === change.name || (change.keyPattern !== undefined && JSON.stringify(i.def.key) === JSON.stringify(change.keyPattern)));
  if (!ix) throw new MongoServerFault(27, 'cannot find index for collMod');
  const ttl = numericValue(change.expireAfterSeconds);
  if (ttl === undefined) return { ok: 1 };
  const old = ix.def.expireAfterSeconds;
  return ctx.engine.write((ops) => {
    ix.def.expireAfterSeconds = ttl;
    // The journal has no "modify index" op; dropping and re-creating records the new definition.
    ops.push({ op: 'dropIndex', db: ctx.db, coll: name, name: ix.name }, { op: 'createIndex', db: ctx.db, coll: name, index: ix.def });
    return { expireAfterSeconds_old: old, expireAfterSeconds_new: ttl, ok: 1 };
  });
};

export const catalogCommands: Record<string, CommandHandler> = {
  create, drop, dropDatabase, listCollections, listIndexes, createIndexes, dropIndexes, deleteIndexes: dropIndexes, listDatabases, collMod,
};
