import { stageChangesAt, stageFrom, type Stage } from '../sop/index.ts';
import { scoreContact } from '../sidebar-api/index.ts';
import type { CustomerRow } from './models.ts';

/** The facts of one contact as the refresh gathers them from the source collections. */
export interface ContactFactsIn {
  externalUserId: string;
  contact: {
    name?: string | null;
    avatar?: string | null;
    corpName?: string | null;
    corpFullName?: string | null;
    phone?: string | null;
    lastActivityAt?: Date | null;
  } | null;
  relations: Array<{
    userId: string;
    status: string;
    remark?: string | null;
    remarkMobiles?: string[] | null;
    state?: string | null;
    tagIds?: string[] | null;
    enteredAt?: Date | null;
    addedAt?: Date | null;
  }>;
  orders: number;
  spentFen: number;
  groups: string[];
  recentReplies: number;
  override: string | null;
}

const time = (date: Date | null | undefined) => date?.getTime() ?? NaN;

/** The relation the contact entered through: earliest enteredAt, else addedAt (analytics/facts.ts reads contacts the same way). */
export function firstRelation<R extends { enteredAt?: Date | null; addedAt?: Date | null }>(relations: R[]): R | null {
  let first: R | null = null;
  let firstSince = Infinity;
  for (const relation of relations) {
    const since = Number.isNaN(time(relation.enteredAt)) ? time(relation.addedAt) : time(relation.enteredAt);
    if (Number.isNaN(since) || since >= firstSince) continue;
    first = relation;
    firstSince = since;
  }
  return first;
}

function statusOf(relations: ContactFactsIn['relations']): string {
  if (relations.some((r) => r.status === 'active')) return 'active';
  if (relations.some((r) => r.status === 'lost' || r.status === 'deleted')) return 'lost';
  if (relations.some((r) => r.status === 'pending')) return 'pending';
  return 'none';
}

/** The index row of a contact at `now`; stage and score come from the SOP and sidebar rules themselves. */
export function rowOf(facts: ContactFactsIn, tagNames: (tagIds: string[]) => string[], now: Date): CustomerRow {
  const { contact, relations } = facts;
  const active = relations.filter((r) => r.status === 'active');
  const tagIds = [...new Set(relations.flatMap((r) => r.tagIds ?? []))];
  const first = firstRelation(relations);
  const lastActivityAt = contact?.lastActivityAt ?? null;
  const stageFacts = { activeRelations: active.length, orders: facts.orders, lastActivityAt };
  const computed = stageFrom(stageFacts, now);
  const score = scoreContact({ lastActivityAt, recentReplies: facts.recentReplies, orders: facts.orders, tagNames: tagNames(tagIds), groupCount: facts.groups.length }, now);
  const addedAt = first ? (first.addedAt ?? first.enteredAt ?? null) : null;
  return {
    externalUserId: facts.externalUserId,
    name: contact?.name ?? '',
    avatar: contact?.avatar ?? '',
    corpName: contact?.corpName || contact?.corpFullName || '',
    phone: contact?.phone ?? null,
    remarks: relations.flatMap((r) => [r.remark ?? '', ...(r.remarkMobiles ?? [])]).filter(Boolean),
    reps: active.map((r) => r.userId),
    repsAll: relations.map((r) => ({ userId: r.userId, status: r.status, remark: r.remark ?? '' })),
    repIds: relations.map((r) => r.userId),
    status: statusOf(relations),
    tagIds,
    channel: first?.state ?? null,
    addedAt,
    enteredAt: first?.enteredAt ?? null,
    lastActivityAt,
    orders: facts.orders,
    spentFen: facts.spentFen,
    groups: facts.groups,
    score: score.value,
    scoredAt: now,
    stage: (facts.override as Stage | null) ?? computed,
    stageComputed: computed,
    stageOverride: facts.override,
    stageDueAt: stageChangesAt(stageFacts, now),
    addedKey: addedAt?.getTime() ?? 0,
    activityKey: lastActivityAt?.getTime() ?? 0,
  };
}
