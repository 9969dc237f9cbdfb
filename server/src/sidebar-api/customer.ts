import { randomUUID } from 'node:crypto';
import mongoose, { type Types } from 'mongoose';
import { REPLY_KINDS, type ContactModels, type ContactPool, type FollowRelation } from '../contacts/index.ts';
import { stageFrom, stageOf, type SopModels, type Stage } from '../sop/index.ts';
import type { Catalog } from './catalog.ts';
import type { SidebarModels } from './models.ts';
import type { FitFacts } from './ranking.ts';
import type { RepNames } from '../wecom/index.ts';
import { scoreContact } from './score.ts';

const DAY_MS = 86_400_000;
/** The customer writing to us: what the score counts as replies. */
/** Relations through which a rep may see and edit a customer. */
export const VISIBLE_STATUSES: Array<'active' | 'pending'> = ['active', 'pending'];

export interface ReadDeps {
  contacts: ContactModels;
  catalog: Catalog;
  sidebar: SidebarModels;
  sop: SopModels;
  repNames: RepNames;
  /** The churn module's stored score for a contact (main.ts); absent = the answer carries risk null. */
  churnRisk?: ((externalUserId: string) => Promise<ChurnRiskView | null>) | undefined;
}

/** A churn risk score as the sidebar shows it: each reason with its Chinese and English label. */
export interface ChurnRiskView {
  score: number;
  reasons: Array<{ code: string; label: { zh: string; en: string }; points: number; facts?: Record<string, number | string> }>;
  computedAt: Date;
}

/** The rep's own relation to the customer, or null when the rep does not follow them (→ 403). */
export function relationOf(contacts: ContactModels, repId: string, externalUserId: string) {
  return contacts.FollowRelation.findOne({
    externalUserId,
    userId: repId,
    status: mongoose.trusted({ $in: VISIBLE_STATUSES }),
  }).lean<FollowRelation & { _id: Types.ObjectId }>();
}

/** Computed stage, the rep's override if any, and the one in force. */
export async function stageView(deps: ReadDeps, externalUserId: string, now: Date) {
  const [computed, override] = await Promise.all([
    stageOf(deps.contacts, externalUserId, now),
    deps.sidebar.StageOverride.findOne({ externalUserId }).lean(),
  ]);
  return stageOut(deps, computed, override);
}

/** The stage as the sidebar shows it: computed, the override in force with who set it and when, and the effective one. */
async function stageOut(deps: Pick<ReadDeps, 'repNames'>, computed: Stage, override: { stage: string; userId: string; at: Date } | null) {
  const overridden = (override?.stage as Stage | undefined) ?? null;
  const overriddenBy = override ? { userId: override.userId, name: await deps.repNames.name(override.userId), at: override.at } : null;
  return { computed, override: overridden, overriddenBy, effective: overridden ?? computed };
}

/** Sets (or with null clears) a contact's stage override, on the timeline too; the sidebar and the console both write it. */
export async function setStageOverride(
  deps: { sidebar: SidebarModels; pool: Pick<ContactPool, 'addTimeline'> },
  change: { externalUserId: string; stage: Stage | null; userId: string; at: Date },
): Promise<void> {
  const { externalUserId, stage, userId, at } = change;
  if (stage === null) await deps.sidebar.StageOverride.deleteOne({ externalUserId });
  else await deps.sidebar.StageOverride.updateOne({ externalUserId }, { $set: { stage, userId, at } }, { upsert: true });
  await deps.pool.addTimeline({ externalUserId, userId, at, kind: 'stage_overridden', key: `stage:${randomUUID()}`, data: { stage } });
}

/**
 * Everything the sidebar header shows about a customer, or null when the rep does not follow them.
 * Read in two parallel rounds (the rep opens this with every chat), so the stage comes from the
 * facts at hand through `stageFrom` rather than a second set of queries.
 */
export async function profileOf(deps: ReadDeps, repId: string, externalUserId: string, now: Date) {
  const { contacts } = deps;
  const [relations, contact, activity, groups, override, catalog, risk] = await Promise.all([
    contacts.FollowRelation.find({ externalUserId }).lean(),
    contacts.Contact.findOne({ externalUserId }).lean(),
    contacts.TimelineEvent.find({ externalUserId, kind: mongoose.trusted({ $in: ['order_paid', ...REPLY_KINDS] }) }, { _id: 0, kind: 1, at: 1 }).lean(),
    contacts.CustomerGroup.find({ 'members.userId': externalUserId, status: 'active' }, { chatId: 1, name: 1 }).lean(),
    deps.sidebar.StageOverride.findOne({ externalUserId }).lean(),
    deps.catalog.current(),
    deps.churnRisk ? deps.churnRisk(externalUserId) : Promise.resolve(null),
  ]);
  const relation = relations.find((r) => r.userId === repId && (VISIBLE_STATUSES as string[]).includes(r.status));
  if (!relation) return null;
  const tagNames = catalog.tagNames(relation.tagIds);

  const orders = activity.filter((e) => e.kind === 'order_paid').length;
  const monthAgo = now.getTime() - 30 * DAY_MS;
  const recentReplies = activity.filter((e) => e.kind !== 'order_paid' && e.at.getTime() >= monthAgo).length;
  const lastActivityAt = contact?.lastActivityAt ?? null;
  const computed = stageFrom({ activeRelations: relations.filter((r) => r.status === 'active').length, orders, lastActivityAt }, now);
  const first = relations
    .filter((r) => r.addedAt ?? r.enteredAt)
    .sort((a, b) => (a.addedAt ?? a.enteredAt)!.getTime() - (b.addedAt ?? b.enteredAt)!.getTime())[0];
  return {
    contact: {
      externalUserId,
      name: contact?.name ?? '',
      avatar: contact?.avatar ?? '',
      type: contact?.type ?? 1,
      corpName: contact?.corpName || contact?.corpFullName || '',
      position: contact?.position ?? '',
      phone: contact?.phone ?? relation.remarkMobiles[0] ?? null,
    },
    relation: {
      status: relation.status,
      remark: relation.remark,
      description: relation.description,
      state: relation.state ?? null,
      channelName: catalog.channelName(relation.state),
      addedAt: relation.addedAt ?? relation.enteredAt ?? null,
    },
    firstAddedBy: first ? { userId: first.userId, name: await deps.repNames.name(first.userId), at: first.addedAt ?? first.enteredAt } : null,
    stage: await stageOut(deps, computed, override),
    score: scoreContact({ lastActivityAt, recentReplies, orders, tagNames: [...tagNames.values()], groupCount: groups.length }, now),
    groups: groups.map((g) => ({ chatId: g.chatId, name: g.name })),
    risk: risk ? { score: risk.score, reasons: risk.reasons, computedAt: risk.computedAt } : null,
  };
}

/** `templateId/stepId` of the steps a target's active SOP journeys are at. */
export async function activeSteps(sop: SopModels, targetId: string): Promise<string[]> {
  const enrollments = await sop.Enrollment.find({ targetId, status: 'active', currentStep: mongoose.trusted({ $ne: null }) }, { planId: 1, currentStep: 1 }).lean();
  if (enrollments.length === 0) return [];
  const plans = await sop.Plan.find({ _id: mongoose.trusted({ $in: enrollments.map((e) => e.planId) }) }, { templateId: 1 }).lean();
  // A plan written inline started from no template, so no script can name its steps.
  const templateOf = new Map(plans.flatMap((p) => (p.templateId ? [[String(p._id), p.templateId] as const] : [])));
  return enrollments.flatMap((e) => (templateOf.has(String(e.planId)) ? [`${templateOf.get(String(e.planId))}/${e.currentStep}`] : []));
}

const RECENT_MESSAGES = 5;

/** What the script ranking needs to know about a customer now. */
export async function fitFacts(deps: ReadDeps, relation: FollowRelation, now: Date): Promise<FitFacts> {
  const { externalUserId } = relation;
  const [stage, tagNames, steps, messages] = await Promise.all([
    stageView(deps, externalUserId, now),
    deps.catalog.current().then((c) => c.tagNames(relation.tagIds)),
    activeSteps(deps.sop, externalUserId),
    deps.contacts.TimelineEvent.find({ externalUserId, kind: 'message_in' }, { data: 1 }).sort({ at: -1 }).limit(RECENT_MESSAGES).lean(),
  ]);
  return {
    stage: stage.effective,
    tagNames: [...tagNames.values()],
    activeSteps: steps,
    recentTexts: messages.flatMap((m) => {
      const text = (m.data as { text?: unknown } | undefined)?.text;
      return typeof text === 'string' ? [text] : [];
    }),
  };
}
