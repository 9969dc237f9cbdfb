import { describe, expect, it } from 'vitest';
import { churnScore, rhythmDays, type ChurnFacts } from '../../server/src/churn/index.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-11-23T02:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY);
const facts = (over: Partial<ChurnFacts> = {}): ChurnFacts => ({
  activityAt: [],
  replyAt: [],
  relations: [{ status: 'active', removedAt: null }],
  leftGroupAt: [],
  orderAt: [],
  cohort: null,
  ...over,
});

describe('churn score rule', () => {
  it('a contact with nothing against it scores 0 with no reasons', () => {
    expect(churnScore(facts({ activityAt: [daysAgo(1)] }), NOW)).toEqual({ score: 0, reasons: [] });
  });

  it('measures silence against the contact’s own rhythm (median gap)', () => {
    const weekly = [47, 40].map(daysAgo).concat([54, 61].map(daysAgo));
    const { score, reasons } = churnScore(facts({ activityAt: weekly }), NOW);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ code: 'silent_vs_rhythm', points: 35, facts: { silentDays: 40, rhythmDays: 7, rhythmSource: 'own' } });
    expect(reasons[0]!.label.zh).toBe('已沉默 40 天，平时约 7 天互动一次');
    expect(reasons[0]!.label.en).toContain('silent 40 days while the usual gap is 7 days');
    expect(score).toBe(35);
  });

  it('falls back to the default rhythm with too few activities, and a slow contact is not silent yet', () => {
    expect(rhythmDays([daysAgo(10)], 2)).toBeNull();
    const few = churnScore(facts({ activityAt: [daysAgo(30)] }), NOW);
    expect(few.reasons[0]).toMatchObject({ code: 'silent_vs_rhythm', points: 20, facts: { rhythmDays: 14, rhythmSource: 'default' } });
    // Every 30 days, 40 days silent: under twice its rhythm, no reason.
    const monthly = churnScore(facts({ activityAt: [100, 70, 40].map(daysAgo) }), NOW);
    expect(monthly.reasons.map((r) => r.code)).not.toContain('silent_vs_rhythm');
  });

  it('adds replies falling off, a lost rep, a left group, a repurchase due without reply and fewer orders than the cohort', () => {
    const { score, reasons } = churnScore(
      facts({
        activityAt: [daysAgo(3)],
        replyAt: [35, 40, 50, 70].map(daysAgo),
        relations: [{ status: 'lost', removedAt: daysAgo(2) }, { status: 'active', removedAt: null }],
        leftGroupAt: [daysAgo(5)],
        orderAt: [daysAgo(85)],
        cohort: { key: 'channel:expo', medianOrders: 2, size: 10 },
      }),
      NOW,
    );
    expect(reasons.map((r) => [r.code, r.points])).toEqual([
      ['rep_deleted', 30],
      ['replies_falling', 15],
      ['renewal_due_no_reply', 15],
      ['left_group', 10],
      ['fewer_orders_than_cohort', 10],
    ]);
    expect(score).toBe(80);
    expect(reasons.find((r) => r.code === 'renewal_due_no_reply')!.facts).toEqual({ daysUntilDue: 5, repurchaseDays: 90 });
  });

  it('caps at 100 and is deterministic', () => {
    const all = facts({
      activityAt: [200, 193, 186].map(daysAgo),
      replyAt: [35, 40, 50, 70].map(daysAgo),
      relations: [{ status: 'lost', removedAt: daysAgo(2) }],
      leftGroupAt: [daysAgo(5)],
      orderAt: [daysAgo(100)],
      cohort: { key: 'month:2026-01', medianOrders: 3, size: 5 },
    });
    const first = churnScore(all, NOW);
    expect(first.score).toBe(100);
    expect(churnScore(all, NOW)).toEqual(first);
  });
});
