import mongoose from 'mongoose';
import { z } from 'zod';
import type { ContactModels } from '../contacts/index.ts';
import type { OrderModel } from '../orders/index.ts';
import { scoreContact } from '../sidebar-api/index.ts';
import type { SopModels } from '../sop/index.ts';
import type { CustomerModels } from './models.ts';
import type { CustomerIndexer } from './refresh.ts';

export interface PageDeps {
  contacts: ContactModels;
  orders: OrderModel;
  sop: Pick<SopModels, 'Job' | 'Plan'> | null;
  models: CustomerModels;
  indexer: CustomerIndexer;
  now: () => Date;
}

export const timelineQuery = z.object({
  timelineLimit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque: the timeline page after which to continue. */
  timelineCursor: z.string().max(200).optional(),
});

const ORDERS_SHOWN = 200;
const JOBS_SHOWN = 200;

/** (at, _id) of the last event shown: events sharing a timestamp are neither repeated nor skipped. */
function timelineAfter(cursor: string | undefined): Record<string, unknown> {
  if (!cursor) return {};
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const time = Number(at);
  if (!Number.isFinite(time) || !id || !mongoose.isValidObjectId(id)) throw new z.ZodError([{ code: 'custom', path: ['timelineCursor'], message: 'not a cursor this page gave', input: cursor }]);
  const before = new Date(time);
  return { $or: [{ at: mongoose.trusted({ $lt: before }) }, { at: before, _id: mongoose.trusted({ $lt: new mongoose.Types.ObjectId(id) }) }] };
}

/** The console's customer page: everything about one contact across all reps; null when unknown. */
export async function customerPage(deps: PageDeps, externalUserId: string, query: z.infer<typeof timelineQuery>) {
  const { contacts } = deps;
  const now = deps.now();
  await deps.indexer.fresh();
  const [row, contact, relations, orders, jobs, events, { facts, tagNames }] = await Promise.all([
    deps.models.CustomerIndex.findOne({ externalUserId }, { _id: 0 }).lean(),
    contacts.Contact.findOne({ externalUserId }, { _id: 0, __v: 0 }).lean(),
    contacts.FollowRelation.find({ externalUserId }, { _id: 0, __v: 0 }).sort({ enteredAt: 1 }).lean(),
    deps.orders.find({ externalUserId }, { _id: 0, orderId: 1, amountFen: 1, paidAt: 1 }).sort({ paidAt: -1 }).limit(ORDERS_SHOWN).lean(),
    deps.sop ? deps.sop.Job.find({ targetId: externalUserId }, { planId: 1, stepId: 1, status: 1, outcome: 1, dueAt: 1, detail: 1 }).sort({ dueAt: -1 }).limit(JOBS_SHOWN).lean() : [],
    contacts.TimelineEvent.find({ externalUserId, ...timelineAfter(query.timelineCursor) }).sort({ at: -1, _id: -1 }).limit(query.timelineLimit + 1).lean(),
    deps.indexer.factsOf([externalUserId], now),
  ]);
  const fact = facts[0];
  if (!row || !fact) return null;
  const planIds = [...new Set(jobs.map((j) => String(j.planId)))];
  const plans = deps.sop && planIds.length ? await deps.sop.Plan.find({ _id: mongoose.trusted({ $in: planIds }) }, { name: 1 }).lean() : [];
  const planName = new Map(plans.map((p) => [String(p._id), p.name]));
  const tagName = (ids: string[]) => {
    const names = tagNames(ids);
    return ids.map((tagId, i) => ({ tagId, name: names[i] ?? tagId }));
  };
  const timeline = events.slice(0, query.timelineLimit);
  const last = timeline.at(-1);
  return {
    contact: contact ?? { externalUserId },
    relations: relations.map((r) => ({ ...r, tags: tagName(r.tagIds) })),
    tags: tagName(row.tagIds),
    channel: row.channel,
    status: row.status,
    groups: row.groups,
    stage: { computed: row.stageComputed, override: row.stageOverride, effective: row.stage },
    score: scoreContact(
      { lastActivityAt: fact.contact?.lastActivityAt ?? null, recentReplies: fact.recentReplies, orders: fact.orders, tagNames: tagNames(row.tagIds), groupCount: fact.groups.length },
      now,
    ),
    orders: { count: row.orders, spentFen: row.spentFen, items: orders },
    sopJobs: jobs.map((j) => ({ id: String(j._id), planId: String(j.planId), plan: planName.get(String(j.planId)) ?? null, stepId: j.stepId, status: j.status, outcome: j.outcome ?? null, dueAt: j.dueAt, detail: j.detail ?? null })),
    timeline: {
      items: timeline.map((e) => ({ at: e.at, kind: e.kind, userId: e.userId, data: e.data })),
      nextCursor: events.length > query.timelineLimit && last ? Buffer.from(`${last.at.getTime()}|${String(last._id)}`).toString('base64url') : null,
    },
  };
}
