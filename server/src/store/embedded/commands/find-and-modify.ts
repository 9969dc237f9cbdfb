/** findAndModify: one document, found (optionally sorted), updated/removed/upserted atomically. */
import type { Document } from 'bson';
import { badValue } from '../errors.ts';
import { compileProjection, parseSort } from '../query.ts';
import type { CommandHandler } from './types.ts';
import { collName, optDoc } from './util.ts';
import { runUpdate } from './write.ts';

const findAndModify: CommandHandler = async (cmd, ctx) => {
  const name = collName(cmd, Object.keys(cmd)[0] as string);
  const query = optDoc(cmd, 'query') ?? {};
  const sort = parseSort(cmd.sort);
  const project = compileProjection(cmd.fields, query);
  const remove = cmd.remove === true;
  const update = cmd.update as Document | Document[] | undefined;
  if (remove === (update !== undefined)) throw badValue('Either an update or remove=true must be specified');
  if (remove && cmd.upsert === true) throw badValue('Cannot specify both upsert=true and remove=true');
  const shape = (d: Document | undefined): Document | null => (d === undefined ? null : project ? project(d) : d);

  return ctx.engine.write((ops) => {
    const coll = ctx.engine.collection(ctx.db, name);
    const target = coll?.first(query, sort);
    if (remove) {
      if (!coll || !target) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
      coll.remove(target);
      ops.push({ op: 'del', db: ctx.db, coll: name, id: target.doc._id });
      return { lastErrorObject: { n: 1 }, value: shape(target.doc), ok: 1 };
    }
    const spec = { q: query, u: update as Document | Document[], upsert: cmd.upsert === true, arrayFilters: cmd.arrayFilters as Document[] | undefined };
    const r = runUpdate(coll, spec, ops, () => ctx.engine.ensureCollection(ctx.db, name, ops), target ? [target] : []);
    if (r.upsertedId !== undefined) {
      return { lastErrorObject: { n: 1, updatedExisting: false, upserted: r.upsertedId }, value: cmd.new === true ? shape(r.after) : null, ok: 1 };
    }
    if (r.matched === 0) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: shape(cmd.new === true ? r.after : r.before), ok: 1 };
  });
};

export const findAndModifyCommands: Record<string, CommandHandler> = { findAndModify, findandmodify: findAndModify };
