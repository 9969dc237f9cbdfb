/** What the score looks at, gathered per contact by the profile. */
export interface ScoreFacts {
  lastActivityAt: Date | null;
  /** Customer messages and replies in the last 30 days. */
  recentReplies: number;
  orders: number;
  tagNames: string[];
  groupCount: number;
}

export interface Reason {
  code: string;
  /** The value the reason is about (a tag name, a count, a keyword...). */
  value: string;
  /** Readable Chinese text; the sidebar localizes by code. */
  text: string;
}

export interface ScoreReason extends Reason {
  points: number;
}

const DAY_MS = 86_400_000;
/** Intent tags as WeCom tag libraries commonly name them; other tags do not move the score. */
const INTENT_TAG_POINTS: Record<string, number> = { 'A类-高意向': 20, 'B类-跟进中': 10 };

/**
 * A 0–100 lead score a rep can read at a glance: each rule adds points and says why. The rules add
 * up to at most 100 (activity 25, replies 20, orders 30, intent tag 20, groups 5), so nothing is
 * clipped silently.
 */
export function scoreContact(facts: ScoreFacts, now: Date): { value: number; reasons: ScoreReason[] } {
  const reasons: ScoreReason[] = [];
  const add = (points: number, code: string, value: string, text: string) => reasons.push({ points, code, value, text });

  const idleDays = facts.lastActivityAt ? (now.getTime() - facts.lastActivityAt.getTime()) / DAY_MS : Infinity;
  if (idleDays <= 7) add(25, 'active_7d', '7', '7 天内有互动');
  else if (idleDays <= 30) add(10, 'active_30d', '30', '30 天内有互动');

  if (facts.recentReplies > 0) add(Math.min(facts.recentReplies * 5, 20), 'replies', String(facts.recentReplies), `近 30 天回复 ${facts.recentReplies} 次`);
  if (facts.orders > 0) add(facts.orders >= 2 ? 30 : 20, 'orders', String(facts.orders), `已下单 ${facts.orders} 次`);

  const intent = facts.tagNames
    .filter((name) => name in INTENT_TAG_POINTS)
    .sort((a, b) => INTENT_TAG_POINTS[b]! - INTENT_TAG_POINTS[a]!)[0];
  if (intent) add(INTENT_TAG_POINTS[intent]!, 'intent_tag', intent, `意向标签：${intent}`);

  if (facts.groupCount > 0) add(5, 'groups', String(facts.groupCount), `在 ${facts.groupCount} 个客户群`);

  return { value: reasons.reduce((sum, r) => sum + r.points, 0), reasons };
}
