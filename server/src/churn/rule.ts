/**
 * The churn risk rule: a pure function of one contact's facts and the time, so the same facts always
 * give the same score and the rule is tested without a store. docs/churn-risk.md explains each signal.
 */

export const DAY_MS = 86_400_000;

/** What the rule looks at for one contact, gathered by facts.ts. */
export interface ChurnFacts {
  /** When the customer acted (added us, wrote, replied, bought, joined a group), any order. */
  activityAt: Date[];
  /** When the customer wrote or replied (REPLY_KINDS). */
  replyAt: Date[];
  /** The contact's rep relations and how they stand. */
  relations: Array<{ status: string; removedAt: Date | null }>;
  /** When the customer left one of our customer groups. */
  leftGroupAt: Date[];
  /** When each of the customer's orders was paid. */
  orderAt: Date[];
  /** The contact's cohort (its channel, else the month it entered) and that cohort's median order count. */
  cohort: { key: string; medianOrders: number; size: number } | null;
}

export type ReasonCode = 'silent_vs_rhythm' | 'replies_falling' | 'rep_deleted' | 'left_group' | 'renewal_due_no_reply' | 'fewer_orders_than_cohort';

export interface ChurnReason {
  code: ReasonCode;
  label: { zh: string; en: string };
  points: number;
  /** The numbers the reason is about, for the sidebar and for checking the rule by hand. */
  facts: Record<string, number | string>;
}

export interface ChurnScore {
  score: number;
  reasons: ChurnReason[];
}

/** The rule's constants, in one place so docs/churn-risk.md can name them. */
export const RULE = {
  /** A contact with fewer than this many activity gaps has no rhythm of its own: defaultRhythmDays stands in. */
  minGapsForRhythm: 2,
  defaultRhythmDays: 14,
  /** Silence shorter than this is never a signal, however regular the contact. */
  minSilentDays: 7,
  silentLong: { ratio: 4, points: 35 },
  silentShort: { ratio: 2, points: 20 },
  /** Replies in the last 30 days against the 60 days before (per 30 days). */
  replyWindowDays: 30,
  repliesFalling: { minEarlier: 2, points: 15 },
  repDeleted: { points: 30 },
  leftGroup: { withinDays: 90, points: 10 },
  /** No renewal field exists: the next purchase is due one repurchase interval after the last order. */
  defaultRepurchaseDays: 90,
  renewal: { windowBeforeDays: 14, windowAfterDays: 30, quietDays: 14, points: 15 },
  cohort: { minSize: 3, points: 10 },
} as const;

const days = (ms: number) => Math.floor(ms / DAY_MS);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median gap in days between consecutive times, or null with too few of them. */
export function rhythmDays(times: Date[], minGaps: number): number | null {
  const sorted = times.map((t) => t.getTime()).sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((t, i) => (t - sorted[i]!) / DAY_MS).filter((g) => g > 0);
  return gaps.length >= minGaps ? Math.max(1, Math.round(median(gaps))) : null;
}

function silence(facts: ChurnFacts, now: Date): ChurnReason | null {
  if (facts.activityAt.length === 0) return null;
  const last = Math.max(...facts.activityAt.map((t) => t.getTime()));
  const silent = days(now.getTime() - last);
  const own = rhythmDays(facts.activityAt, RULE.minGapsForRhythm);
  const rhythm = own ?? RULE.defaultRhythmDays;
  if (silent < RULE.minSilentDays) return null;
  const band = silent >= RULE.silentLong.ratio * rhythm ? RULE.silentLong : silent >= RULE.silentShort.ratio * rhythm ? RULE.silentShort : null;
  if (!band) return null;
  const basis = own === null ? { zh: '（互动太少，按默认 14 天计）', en: ' (too few activities: default 14 days)' } : { zh: '', en: '' };
  return {
    code: 'silent_vs_rhythm',
    label: { zh: `已沉默 ${silent} 天，平时约 ${rhythm} 天互动一次${basis.zh}`, en: `silent ${silent} days while the usual gap is ${rhythm} days${basis.en}` },
    points: band.points,
    facts: { silentDays: silent, rhythmDays: rhythm, rhythmSource: own === null ? 'default' : 'own' },
  };
}

function repliesFalling(facts: ChurnFacts, now: Date): ChurnReason | null {
  const window = RULE.replyWindowDays * DAY_MS;
  const t = now.getTime();
  const recent = facts.replyAt.filter((r) => r.getTime() > t - window && r.getTime() <= t).length;
  const earlier = facts.replyAt.filter((r) => r.getTime() > t - 3 * window && r.getTime() <= t - window).length;
  if (earlier < RULE.repliesFalling.minEarlier) return null;
  const earlierPerWindow = earlier / 2;
  if (recent > earlierPerWindow / 2) return null;
  return {
    code: 'replies_falling',
    label: { zh: `近 30 天回复 ${recent} 次，此前每 30 天约 ${earlierPerWindow} 次`, en: `${recent} replies in the last 30 days against about ${earlierPerWindow} per 30 days before` },
    points: RULE.repliesFalling.points,
    facts: { recentReplies: recent, earlierPer30Days: earlierPerWindow },
  };
}

function repDeleted(facts: ChurnFacts): ChurnReason | null {
  const ended = facts.relations.filter((r) => r.status === 'lost' || r.status === 'deleted');
  if (ended.length === 0) return null;
  const active = facts.relations.filter((r) => r.status === 'active').length;
  return {
    code: 'rep_deleted',
    label: { zh: `${ended.length} 位跟进人的好友关系已断开（剩余 ${active} 位）`, en: `${ended.length} rep relation(s) ended (${active} still active)` },
    points: RULE.repDeleted.points,
    facts: { endedRelations: ended.length, activeRelations: active },
  };
}

function leftGroup(facts: ChurnFacts, now: Date): ChurnReason | null {
  const since = now.getTime() - RULE.leftGroup.withinDays * DAY_MS;
  const left = facts.leftGroupAt.filter((t) => t.getTime() >= since && t.getTime() <= now.getTime()).length;
  if (left === 0) return null;
  return {
    code: 'left_group',
    label: { zh: `近 90 天退出客户群 ${left} 个`, en: `left ${left} customer group(s) in the last 90 days` },
    points: RULE.leftGroup.points,
    facts: { groupsLeft: left },
  };
}

function renewalDue(facts: ChurnFacts, now: Date): ChurnReason | null {
  if (facts.orderAt.length === 0) return null;
  const last = Math.max(...facts.orderAt.map((t) => t.getTime()));
  const interval = rhythmDays(facts.orderAt, 1) ?? RULE.defaultRepurchaseDays;
  const due = last + interval * DAY_MS;
  const untilDue = Math.round((due - now.getTime()) / DAY_MS);
  if (untilDue > RULE.renewal.windowBeforeDays || untilDue < -RULE.renewal.windowAfterDays) return null;
  const quietSince = now.getTime() - RULE.renewal.quietDays * DAY_MS;
  if (facts.replyAt.some((r) => r.getTime() >= quietSince)) return null;
  const when = untilDue >= 0 ? { zh: `${untilDue} 天后`, en: `in ${untilDue} days` } : { zh: `已过 ${-untilDue} 天`, en: `${-untilDue} days ago` };
  return {
    code: 'renewal_due_no_reply',
    label: { zh: `按约 ${interval} 天的复购周期，应在${when.zh}复购，近 14 天未回复`, en: `repurchase due ${when.en} (about every ${interval} days), no reply in 14 days` },
    points: RULE.renewal.points,
    facts: { daysUntilDue: untilDue, repurchaseDays: interval },
  };
}

function fewerOrders(facts: ChurnFacts): ChurnReason | null {
  const cohort = facts.cohort;
  if (!cohort || cohort.size < RULE.cohort.minSize || cohort.medianOrders < 1) return null;
  const orders = facts.orderAt.length;
  if (orders >= cohort.medianOrders) return null;
  return {
    code: 'fewer_orders_than_cohort',
    label: { zh: `下单 ${orders} 次，同批客户（${cohort.key}）中位数 ${cohort.medianOrders} 次`, en: `${orders} orders against a median of ${cohort.medianOrders} in its cohort (${cohort.key})` },
    points: RULE.cohort.points,
    facts: { orders, cohortMedianOrders: cohort.medianOrders, cohort: cohort.key },
  };
}

/** The score (capped at 100) and every reason that added to it, largest first. */
export function churnScore(facts: ChurnFacts, now: Date): ChurnScore {
  const reasons = [silence(facts, now), repliesFalling(facts, now), repDeleted(facts), leftGroup(facts, now), renewalDue(facts, now), fewerOrders(facts)]
    .filter((r): r is ChurnReason => r !== null)
    .sort((a, b) => b.points - a.points);
  return { score: Math.min(100, reasons.reduce((sum, r) => sum + r.points, 0)), reasons };
}

/** A cohort's median order count, exported so facts.ts and the tests share one definition. */
export const medianOf = median;
