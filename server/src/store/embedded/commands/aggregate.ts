/** aggregate via mingo, with a leading $match served by the planner. */
import type { Document } from 'bson';
import { MongoServerFault, badValue } from '../errors.ts';
import { isKnownStage, makeAggregator, specView } from '../query.ts';
import type { DocRecord } from '../record.ts';
import { fromView, isPlainObject } from '../values.ts';
import type { CommandHandler } from './types.ts';
import { nsOf, optDoc, optNumber } from './util.ts';

const WRITING_STAGES = new Set(['$out', '$merge']);
const SERVER_STAGES = new Set(['$collStats', '$indexStats', '$currentOp', '$listSessions', '$listLocalSessions', '$planCacheStats', '$search', '$searchMeta', '$vectorSearch']);

const aggregate: CommandHandler = (cmd, ctx) => {
  const pipeline = cmd.pipeline;
  if (!Array.isArray(pipeline)) throw badValue("'pipeline' option must be specified as an array");
  for (const stage of pipeline) {
    const name = isPlainObject(stage) ? Object.keys(stage)[0] ?? '' : '';
    if (name === '$changeStream') throw new MongoServerFault(40573, 'The $changeStream stage is only supported on replica sets');
    if (WRITING_STAGES.has(name)) throw badValue(`${name} is not supported by the embedded server`);
    if (SERVER_STAGES.has(name)) throw badValue(`${name} is not supported by the embedded server`);
    if (!isKnownStage(name)) throw new MongoServerFault(40324, `Unrecognized pipeline stage name: '${name}'`);
  }
  if (cmd.explain === true) throw badValue('explain is not supported by the embedded server');
  if (typeof cmd.aggregate !== 'string') throw badValue('collection-less aggregate is not supported by the embedded server');
  const name = cmd.aggregate;
  if (!optDoc(cmd, 'cursor') && cmd.cursor !== undefined) throw badValue("'cursor' must be an object");

  const coll = ctx.engine.collection(ctx.db, name);
  let stages = (pipeline as Document[]).flatMap(rewriteCount);
  // Views name `__proto__` fields PROTO_ALIAS; results built from such views (or from a pipeline naming one) are renamed back.
  const mingoStages = specView(stages, true) as Document[];
  let aliased = JSON.stringify(stages).includes('__proto__');
  const viewsOf = (recs: Iterable<DocRecord>): Document[] => {
    const views: Document[] = [];
    for (const r of recs) {
      views.push(r.view);
      aliased ||= r.viewAliases;
    }
    return views;
  };
  let source: Document[];
  const first = stages[0];
  if (coll && first && isPlainObject(first.$match)) {
    source = viewsOf(coll.match(first.$match));
    mingoStages.shift();
    stages = stages.slice(1);
  } else source = coll ? viewsOf(coll.records.values()) : [];

  const resolver = (other: string): Document[] => {
    const c = ctx.engine.collection(ctx.db, other);
    return c ? viewsOf(c.records.values()) : [];
  };
  const agg = makeAggregator(mingoStages, { collectionResolver: resolver });
  const produced = stages.length ? (agg.run(source) as Document[]) : source;
  const results = aliased ? produced.map((d) => fromView(d) as Document) : produced;
  const batchSize = optNumber(optDoc(cmd, 'cursor') ?? {}, 'batchSize');
  const { id, batch } = ctx.engine.cursors.start(nsOf(ctx, name), results, batchSize, false);
  return { cursor: { firstBatch: batch, id, ns: nsOf(ctx, name) }, ok: 1 };
};

/** mongod's own rewrite: $count yields no document (not {n: 0}) on empty input, which $group gives. */
function rewriteCount(stage: Document): Document[] {
  if (typeof stage.$count !== 'string') return [stage];
  return [{ $group: { _id: null, [stage.$count]: { $sum: 1 } } }, { $project: { _id: 0 } }];
}

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };
