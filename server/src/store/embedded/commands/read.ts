/** find / getMore / killCursors / count / distinct. */
import { Long } from 'bson';
import type { Document } from 'bson';
import type { Collection } from '../collection.ts';
import { canonicalKey, compareValues } from '../bson-order.ts';
import { badValue } from '../errors.ts';
import { collectPath } from '../paths.ts';
import { compileFilter, compileProjection, parseSort, sortRecords, topLevelInclusion } from '../query.ts';
import { fieldPicker } from '../raw-bson.ts';
import type { SortSpec } from '../query.ts';
import type { DocRecord } from '../record.ts';
import type { CommandHandler } from './types.ts';
import { collName, nsOf, optDoc, optNumber } from './util.ts';

export interface FindOptions {
  filter?: Document;
  sort?: SortSpec;
  skip?: number;
  limit?: number;
}

/** Matching records in order, after skip/limit; uses the planner's index order when it has one. */
export function findRecords(coll: Collection | undefined, o: FindOptions): DocRecord[] {
  if (!coll) return [];
  const skip = o.skip ?? 0;
  const limit = o.limit && o.limit > 0 ? o.limit : Infinity;
  const p = coll.plan(o.filter, o.sort);
  const test = p.exact ? undefined : compileFilter(o.filter);
  if (!o.sort || p.sorted) {
    // Candidates already come in order, so the page streams: skipped matches are counted, never kept.
    const page: DocRecord[] = [];
    let toSkip = skip;
    for (const rec of p.candidates) {
      if (test && !test(rec)) continue;
      if (toSkip > 0) toSkip--;
      else if (page.push(rec) >= limit) break;
    }
    return page;
  }
  const hits: DocRecord[] = [];
  for (const rec of p.candidates) if (!test || test(rec)) hits.push(rec);
  const sorted = sortRecords(hits, o.sort);
  return skip || limit !== Infinity ? sorted.slice(skip, skip + limit) : sorted;
}

const find: CommandHandler = (cmd, ctx) => {
  const name = collName(cmd, 'find');
  const rawLimit = optNumber(cmd, 'limit') ?? 0;
  const skip = optNumber(cmd, 'skip') ?? 0;
  if (skip < 0) throw badValue('skip value must be non-negative');
  const sort = parseSort(cmd.sort);
  const project = compileProjection(cmd.projection, optDoc(cmd, 'filter'));
  const inclusion = topLevelInclusion(cmd.projection);
  const pick = inclusion && fieldPicker(inclusion.fields, inclusion.withId);
  const recs = findRecords(ctx.engine.collection(ctx.db, name), { filter: optDoc(cmd, 'filter'), sort, skip, limit: Math.abs(rawLimit) });
  // A document still in its stored BSON goes out as those bytes (or the projected ones), never decoded.
  const docs = recs.map((r) => {
    if (!project) return r.bson ?? r.doc;
    return pick && r.bson ? pick(r.bson) : project(r.doc);
  });
  const single = cmd.singleBatch === true || rawLimit < 0;
  const batchSize = optNumber(cmd, 'batchSize');
  const { id, batch } = ctx.engine.cursors.start(nsOf(ctx, name), docs, batchSize, single);
  return { cursor: { firstBatch: batch, id, ns: nsOf(ctx, name) }, ok: 1 };
};

const getMore: CommandHandler = (cmd, ctx) => {
  const name = collName(cmd, 'collection');
  const { id, batch } = ctx.engine.cursors.next(Long.fromValue(cmd.getMore as Long), nsOf(ctx, name), optNumber(cmd, 'batchSize'));
  return { cursor: { nextBatch: batch, id, ns: nsOf(ctx, name) }, ok: 1 };
};

const killCursors: CommandHandler = (cmd, ctx) => {
  const ids = Array.isArray(cmd.cursors) ? (cmd.cursors as unknown[]) : [];
  const { killed, notFound } = ctx.engine.cursors.kill(ids);
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

const count: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.collection(ctx.db, collName(cmd, 'count'));
  const query = optDoc(cmd, 'query');
  const skip = optNumber(cmd, 'skip') ?? 0;
  const limit = Math.abs(optNumber(cmd, 'limit') ?? 0);
  let n = !coll ? 0 : query && Object.keys(query).length ? coll.match(query).length : coll.records.size;
  n = Math.max(0, n - skip);
  return { n: limit ? Math.min(n, limit) : n, ok: 1 };
};

const distinct: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.collection(ctx.db, collName(cmd, 'distinct'));
  if (typeof cmd.key !== 'string') throw badValue("'key' must be a string");
  const key = cmd.key;
  const seen = new Map<string, unknown>();
  for (const rec of coll ? coll.match(optDoc(cmd, 'query')) : []) {
    for (const v of collectPath(rec.doc, key)) {
      for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) seen.set(canonicalKey(x), x);
    }
  }
  return { values: [...seen.values()].sort(compareValues), ok: 1 };
};

export const readCommands: Record<string, CommandHandler> = { find, getMore, killCursors, count, distinct };
