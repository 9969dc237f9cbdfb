import mongoose, { type HydratedDocument, type Model } from 'mongoose';
import type { WorkFields } from './fields.ts';

/** A claim's update: who holds the items and until when (see QueueWorker.take). */
export interface Take {
  $set: { leaseOwner: string; leaseUntil: Date } & Record<string, unknown>;
  $inc: Record<string, number>;
}

/**
 * Claims up to `limit` items in three round trips whatever the limit: the ids of candidates (due
 * pending work first, then work whose holder's lease ran out — each a range on one index, see
 * withWorkFields), one updateMany that takes those still matching (each document's update is
 * atomic, so an item another worker took meanwhile no longer matches and stays theirs), then the
 * candidates that now carry this claim's owner and lease end: exactly the ones it won. (A candidate
 * was pending or past its lease when found, so it cannot carry that lease end from before.)
 */
export async function claimBatch<T extends WorkFields>(model: Model<T>, take: Take, now: Date, limit: number): Promise<Array<HydratedDocument<T>>> {
  const sources = [
    { filter: { runAt: mongoose.trusted({ $lte: now }) }, sort: { runAt: 1 as const } },
    { filter: { leaseUntil: mongoose.trusted({ $lt: now }) }, sort: undefined },
  ];
  for (const { filter, sort } of sources) {
    const query = model.find(filter, { _id: 1 }).limit(limit).lean<Array<{ _id: unknown }>>();
    const ids = (await (sort ? query.sort(sort) : query)).map((c) => c._id);
    if (ids.length === 0) continue;
    const byId = { _id: mongoose.trusted({ $in: ids }) };
    await model.updateMany({ ...byId, ...filter }, take);
    const won = await model.find({ ...byId, status: 'running', leaseOwner: take.$set.leaseOwner, leaseUntil: take.$set.leaseUntil });
    if (won.length > 0) {
      // In due order, as the candidates were found.
      const order = new Map(ids.map((id, i) => [String(id), i]));
      return won.sort((a, b) => order.get(String(a._id))! - order.get(String(b._id))!);
    }
  }
  return [];
}
