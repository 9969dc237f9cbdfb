import mongoose from 'mongoose';
import { REPLY_KINDS, type ContactModels } from '../contacts/index.ts';
import type { OrderModel } from '../orders/index.ts';
import type { ScriptLibrary } from '../script-library/index.ts';
import type { SopModels } from '../sop/index.ts';
import type { RepTaskModel } from '../tasks/index.ts';
import { CONVERSION_WINDOW_MS, type Period } from './metrics.ts';

const DAY_MS = 86_400_000;
/** A reply counts for a send when it comes within this long after it; an order within the conversion window. */
const REPLY_WINDOW_MS = 7 * DAY_MS;

export interface ActivityDeps {
  contacts: Pick<ContactModels, 'FollowRelation' | 'TimelineEvent'>;
  orders: OrderModel;
  sop: Pick<SopModels, 'Plan' | 'Send'>;
  tasks: RepTaskModel;
  scripts: ScriptLibrary;
}

export interface FunnelStep {
  planId: string;
  planName: string;
  stepId: string;
  stepName: string;
  channel: string;
  sent: number;
  confirmed: number;
  replied: number;
  converted: number;
}

const inPeriod = (period: Period) => mongoose.trusted({ $gte: period.from, $lt: period.to });

/**
 * The SOP step funnel from the send ledger: messages sent in the period per plan step → confirmed
 * (a mass send the rep confirmed in the client, WeCom reporting it delivered; welcome and bot
 * messages leave without a rep, so sent is confirmed) → the customer replied within 7 days → the
 * customer paid an order within 30 days of the send.
 */
export async function sopFunnel(deps: ActivityDeps, period: Period): Promise<FunnelStep[]> {
  // A send's key is its job's key: `${planId}:${stepId}:${targetId}:${occurrence}`.
  const sends = await deps.sop.Send.find({ at: inPeriod(period), state: 'sent' }, { _id: 0, key: 1, targetId: 1, channel: 1, delivery: 1, at: 1 }).lean();
  if (sends.length === 0) return [];
  const horizon = new Date(period.to.getTime() + CONVERSION_WINDOW_MS);
  const window = mongoose.trusted({ $gte: period.from, $lt: horizon });
  const [replies, orders, plans] = await Promise.all([
    deps.contacts.TimelineEvent.find({ kind: mongoose.trusted({ $in: REPLY_KINDS }), at: window }, { _id: 0, externalUserId: 1, at: 1 }).lean(),
    deps.orders.find({ paidAt: window }, { _id: 0, externalUserId: 1, paidAt: 1 }).lean(),
    deps.sop.Plan.find({}, { name: 1, template: 1 }).lean(),
  ]);
  const repliesBy = timesBy(replies.map((r) => [r.externalUserId, r.at]));
  const ordersBy = timesBy(orders.map((o) => [o.externalUserId, o.paidAt]));
  const planById = new Map(plans.map((p) => [String(p._id), p]));

  const steps = new Map<string, FunnelStep>();
  for (const send of sends) {
    const [planId = '', stepId = ''] = send.key.split(':');
    const id = `${planId}:${stepId}`;
    let step = steps.get(id);
    if (!step) {
      const plan = planById.get(planId);
      const name = plan?.template.steps.find((s) => s.id === stepId)?.name;
      step = { planId, planName: plan?.name ?? planId, stepId, stepName: name ?? stepId, channel: send.channel, sent: 0, confirmed: 0, replied: 0, converted: 0 };
      steps.set(id, step);
    }
    const at = send.at.getTime();
    step.sent++;
    if (send.channel !== 'mass_send' || send.delivery === 'delivered') step.confirmed++;
    if (repliesBy.get(send.targetId)?.some((t) => t > at && t <= at + REPLY_WINDOW_MS)) step.replied++;
    if (ordersBy.get(send.targetId)?.some((t) => t >= at && t < at + CONVERSION_WINDOW_MS)) step.converted++;
  }
  return [...steps.values()].sort((a, b) => a.planName.localeCompare(b.planName) || a.stepId.localeCompare(b.stepId));
}

export interface RepActivity {
  userId: string;
  /** Customers whose add this rep confirmed in the period. */
  added: number;
  /** Customers who deleted this rep in the period. */
  lost: number;
  /** SOP mass-send tasks WeCom gave the rep in the period, and how many the rep confirmed. */
  massSendTasks: number;
  massSendConfirmed: number;
  /** Follow-up tasks (SOP, bot hand-offs) created for the rep in the period, and finished in it. */
  tasksCreated: number;
  tasksDone: number;
}

/** What each rep did in the period. */
export async function repActivity(deps: ActivityDeps, period: Period): Promise<RepActivity[]> {
  const during = inPeriod(period);
  const [added, lost, massSends, created, done] = await Promise.all([
    deps.contacts.FollowRelation.find({ addedAt: during }, { _id: 0, userId: 1 }).lean(),
    deps.contacts.FollowRelation.find({ removedAt: during, status: 'lost' }, { _id: 0, userId: 1 }).lean(),
    deps.sop.Send.find({ at: during, channel: 'mass_send', state: 'sent' }, { _id: 0, sender: 1, delivery: 1 }).lean(),
    deps.tasks.find({ createdAt: during }, { _id: 0, userId: 1 }).lean(),
    deps.tasks.find({ updatedAt: during, status: 'done' }, { _id: 0, userId: 1 }).lean(),
  ]);
  const reps = new Map<string, RepActivity>();
  const rep = (userId: string | null | undefined) => {
    const id = userId ?? '';
    let row = reps.get(id);
    if (!row) {
      row = { userId: id, added: 0, lost: 0, massSendTasks: 0, massSendConfirmed: 0, tasksCreated: 0, tasksDone: 0 };
      reps.set(id, row);
    }
    return row;
  };
  for (const r of added) rep(r.userId).added++;
  for (const r of lost) rep(r.userId).lost++;
  for (const s of massSends) {
    const row = rep(s.sender);
    row.massSendTasks++;
    if (s.delivery === 'delivered') row.massSendConfirmed++;
  }
  for (const t of created) rep(t.userId).tasksCreated++;
  for (const t of done) rep(t.userId).tasksDone++;
  return [...reps.values()].filter((r) => r.userId !== '').sort((a, b) => a.userId.localeCompare(b.userId));
}

export interface ScriptUse {
  scriptKey: string;
  title: string;
  category: string;
  send: number;
  copy: number;
  botReply: number;
  total: number;
}

/** 话术使用: uses per script in the period (reps sending or copying it, the bot answering with it). */
export async function scriptUsage(deps: ActivityDeps, period: Period): Promise<ScriptUse[]> {
  const [counts, scripts] = await Promise.all([deps.scripts.usageCounts(period), deps.scripts.list({})]);
  const byKey = new Map(scripts.map((s) => [s.key, s]));
  const uses = new Map<string, ScriptUse>();
  for (const { scriptKey, action, count } of counts) {
    let use = uses.get(scriptKey);
    if (!use) {
      const script = byKey.get(scriptKey);
      use = { scriptKey, title: script?.title ?? scriptKey, category: script?.category ?? '', send: 0, copy: 0, botReply: 0, total: 0 };
      uses.set(scriptKey, use);
    }
    if (action === 'send') use.send += count;
    else if (action === 'copy') use.copy += count;
    else use.botReply += count;
    use.total += count;
  }
  return [...uses.values()].sort((a, b) => b.total - a.total || a.scriptKey.localeCompare(b.scriptKey));
}

function timesBy(pairs: Array<[string, Date]>): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (const [id, at] of pairs) {
    const list = map.get(id);
    if (list) list.push(at.getTime());
    else map.set(id, [at.getTime()]);
  }
  return map;
}
