import mongoose from 'mongoose';
import { REPLY_KINDS, type ContactModels } from '../contacts/index.ts';
import type { OrderModel } from '../orders/index.ts';
import { DAY_MS, medianOf, type ChurnFacts } from './rule.ts';

/** The customer's own actions (as the pool counts them), plus orders. */
const ACTIVITY_KINDS = ['added', 'message_in', 'replied', 'order_paid', 'joined_group'];
/** Older history says nothing of whether the customer is drifting away now. */
const HISTORY_DAYS = 365;

export interface FactSources {
  contacts: ContactModels;
  orders: OrderModel;
}

export type Cohorts = Map<string, { key: string; medianOrders: number; size: number }>;

/** A contact's cohort: the channel it came through, else the month it entered. */
function cohortKey(state: string | null | undefined, enteredAt: Date | null | undefined): string | null {
  if (state) return `channel:${state}`;
  return enteredAt ? `month:${enteredAt.toISOString().slice(0, 7)}` : null;
}

/** Every contact's cohort with that cohort's median order count; read once per run, not per contact. */
export async function readCohorts(src: FactSources): Promise<Cohorts> {
  const [relations, contacts, counts] = await Promise.all([
    src.contacts.FollowRelation.find({ state: mongoose.trusted({ $ne: null }) }, { _id: 0, externalUserId: 1, state: 1 }).lean(),
    src.contacts.Contact.find({}, { _id: 0, externalUserId: 1, enteredAt: 1 }).lean(),
    src.orders.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$externalUserId', n: { $sum: 1 } } }]),
  ]);
  const channelOf = new Map(relations.map((r) => [r.externalUserId, r.state]));
  const ordersOf = new Map(counts.map((c) => [c._id, c.n]));
  const members = new Map<string, string[]>();
  for (const c of contacts) {
    const key = cohortKey(channelOf.get(c.externalUserId), c.enteredAt);
    if (!key) continue;
    const ids = members.get(key);
    if (ids) ids.push(c.externalUserId);
    else members.set(key, [c.externalUserId]);
  }
  const cohorts: Cohorts = new Map();
  for (const [key, ids] of members) {
    const cohort = { key, medianOrders: medianOf(ids.map((id) => ordersOf.get(id) ?? 0)), size: ids.length };
    for (const id of ids) cohorts.set(id, cohort);
  }
  return cohorts;
}

/** The rule's facts for some contacts, in one query per source. */
export async function readFacts(src: FactSources, ids: string[], cohorts: Cohorts, now: Date): Promise<Map<string, ChurnFacts>> {
  const since = new Date(now.getTime() - HISTORY_DAYS * DAY_MS);
  const among = mongoose.trusted({ $in: ids });
  const [events, relations, orders] = await Promise.all([
    src.contacts.TimelineEvent.find(
      { externalUserId: among, at: mongoose.trusted({ $gte: since }), kind: mongoose.trusted({ $in: [...ACTIVITY_KINDS, ...REPLY_KINDS, 'left_group'] }) },
      { _id: 0, externalUserId: 1, kind: 1, at: 1 },
    ).lean(),
    src.contacts.FollowRelation.find({ externalUserId: among }, { _id: 0, externalUserId: 1, status: 1, removedAt: 1 }).lean(),
    src.orders.find({ externalUserId: among }, { _id: 0, externalUserId: 1, paidAt: 1 }).lean(),
  ]);
  const facts = new Map<string, ChurnFacts>(
    ids.map((id) => [id, { activityAt: [], replyAt: [], relations: [], leftGroupAt: [], orderAt: [], cohort: cohorts.get(id) ?? null }]),
  );
  for (const e of events) {
    const f = facts.get(e.externalUserId);
    if (!f) continue;
    if (ACTIVITY_KINDS.includes(e.kind)) f.activityAt.push(e.at);
    if (REPLY_KINDS.includes(e.kind)) f.replyAt.push(e.at);
    if (e.kind === 'left_group') f.leftGroupAt.push(e.at);
  }
  for (const r of relations) facts.get(r.externalUserId)?.relations.push({ status: r.status, removedAt: r.removedAt ?? null });
  for (const o of orders) {
    const f = facts.get(o.externalUserId);
    if (!f) continue;
    f.orderAt.push(o.paidAt);
    // An imported order may have no order_paid on the timeline: it is still the customer acting.
    if (o.paidAt >= since && !f.activityAt.some((t) => t.getTime() === o.paidAt.getTime())) f.activityAt.push(o.paidAt);
  }
  return facts;
}
