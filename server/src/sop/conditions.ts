import mongoose from 'mongoose';
import { REPLY_KINDS, type ContactModels } from '../contacts/index.ts';
import type { SopCondition } from './templates/schema.ts';

export const STAGES = ['new', 'first_purchase', 'repeat', 'dormant', 'churn_risk'] as const;
export type Stage = (typeof STAGES)[number];

const DORMANT_AFTER_DAYS = 30;

/** Resolves tag names (as operators write them in templates) to WeCom tag ids. */
export async function tagIdsByName(contacts: ContactModels, names: string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  const tags = await contacts.Tag.find({ name: mongoose.trusted({ $in: names }) }, { tagId: 1, name: 1 }).lean();
  return new Map(tags.map((t) => [t.name, t.tagId]));
}

/** Lifecycle stage from behaviour: lost relation, orders, recent activity. */
export async function stageOf(contacts: ContactModels, externalUserId: string, now: Date): Promise<Stage> {
  return (await stagesOf(contacts, [externalUserId], now)).get(externalUserId) as Stage;
}

/** Stages of many contacts in three reads (run together), for audiences. */
export async function stagesOf(contacts: ContactModels, externalUserIds: string[], now: Date): Promise<Map<string, Stage>> {
  const ids = mongoose.trusted({ $in: externalUserIds });
  const [active, orders, people] = await Promise.all([
    contacts.FollowRelation.aggregate<{ _id: string; n: number }>([{ $match: { externalUserId: ids, status: 'active' } }, { $group: { _id: '$externalUserId', n: { $sum: 1 } } }]),
    contacts.TimelineEvent.aggregate<{ _id: string; n: number }>([{ $match: { externalUserId: ids, kind: 'order_paid' } }, { $group: { _id: '$externalUserId', n: { $sum: 1 } } }]),
    contacts.Contact.find({ externalUserId: ids }, { externalUserId: 1, lastActivityAt: 1 }).lean(),
  ]);
  const activeBy = new Map(active.map((a) => [a._id, a.n]));
  const ordersBy = new Map(orders.map((o) => [o._id, o.n]));
  const lastBy = new Map(people.map((p) => [p.externalUserId, p.lastActivityAt ?? null]));
  return new Map(
    externalUserIds.map((id) => [id, stageFrom({ activeRelations: activeBy.get(id) ?? 0, orders: ordersBy.get(id) ?? 0, lastActivityAt: lastBy.get(id) ?? null }, now)]),
  );
}

/** The stage rule itself, for callers that already hold the facts (the sidebar profile reads them in one go). */
export function stageFrom(facts: { activeRelations: number; orders: number; lastActivityAt: Date | null }, now: Date): Stage {
  if (facts.activeRelations === 0) return 'churn_risk';
  const last = facts.lastActivityAt?.getTime() ?? 0;
  if (now.getTime() - last > DORMANT_AFTER_DAYS * 86_400_000) return 'dormant';
  if (facts.orders >= 2) return 'repeat';
  if (facts.orders === 1) return 'first_purchase';
  return 'new';
}

/**
 * When stageFrom's answer for these facts would change with time alone (null: not before the facts
 * change), so a stored stage can be refreshed exactly on time.
 */
export function stageChangesAt(facts: { activeRelations: number; lastActivityAt: Date | null }, now: Date): Date | null {
  if (facts.activeRelations === 0) return null;
  const dormantFrom = (facts.lastActivityAt?.getTime() ?? 0) + DORMANT_AFTER_DAYS * 86_400_000 + 1;
  return dormantFrom > now.getTime() ? new Date(dormantFrom) : null;
}

/** A contact's stage in force (a rep's override, else the computed one) and lead score (0–100). */
export interface Standing {
  stage: Stage;
  score: number;
}
/** The standing of these contacts now; contacts unknown to the pool are left out. */
export type StandingOf = (externalUserIds: string[], now: Date) => Promise<Map<string, Standing>>;

/**
 * Where no customers module is wired (SOP-only tests): the computed stage and a score of 0. main.ts
 * always wires the customers module's, which applies overrides and scores like the sidebar does.
 */
export const computedStanding =
  (contacts: ContactModels): StandingOf =>
  async (ids, now) =>
    new Map([...(await stagesOf(contacts, ids, now))].map(([id, stage]) => [id, { stage, score: 0 }]));

/** Whether a standing meets an audience's or a condition's stage and score bounds (absent = any). */
export function standingMatches(standing: Standing | undefined, bounds: { stages?: readonly string[] | undefined; minScore?: number | null | undefined; maxScore?: number | null | undefined }): boolean {
  if (!standing) return false;
  if (bounds.stages?.length && !bounds.stages.includes(standing.stage)) return false;
  if (bounds.minScore != null && standing.score < bounds.minScore) return false;
  if (bounds.maxScore != null && standing.score > bounds.maxScore) return false;
  return true;
}

/** Whether a condition holds for a contact, counting behaviour since `since` (the enrolment). */
export async function conditionHolds(
  deps: { contacts: ContactModels; standing: StandingOf },
  condition: SopCondition,
  target: { externalUserId: string; since: Date; now: Date },
): Promise<boolean> {
  const { contacts } = deps;
  const { externalUserId, since, now } = target;
  const happenedSince = (kinds: string[]) =>
    contacts.TimelineEvent.exists({
      externalUserId,
      kind: mongoose.trusted({ $in: kinds }),
      at: mongoose.trusted({ $gte: since }),
    }).then((found) => found !== null);

  if ('replied' in condition) return (await happenedSince(REPLY_KINDS)) === condition.replied;
  if ('bought' in condition) return (await happenedSince(['order_paid'])) === condition.bought;
  if ('hasTag' in condition) {
    const tagId = (await tagIdsByName(contacts, [condition.hasTag])).get(condition.hasTag);
    if (!tagId) return false;
    return (await contacts.FollowRelation.exists({ externalUserId, tagIds: tagId })) !== null;
  }
  const standing = (await deps.standing([externalUserId], now)).get(externalUserId);
  if ('score' in condition) return standingMatches(standing, { minScore: condition.score.gte, maxScore: condition.score.lte });
  return standingMatches(standing, { stages: [condition.stage] });
}
