import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsReport } from '../../server/src/analytics/index.ts';
import { startAdminHarness, TIME_ZONE, type AdminHarness } from '../import/harness.ts';

/**
 * A hand-made data set with every metric worked out by hand. Period: from=2026-03-01 to=2026-04-01,
 * i.e. [2026-03-01 00:00, 2026-04-01 00:00) Asia/Shanghai. All times below are Shanghai time.
 *
 * Channels: A (cost 1000), B (cost 0), C (cost 500, no contacts).
 *
 * Contacts (first relation; c1 also has a LATER relation with lisi in channel B, which must not count):
 *   c1 A  entered 03-01 00:00:00  added 03-01 00:05:00  never removed
 *   c2 A  entered 03-10 10:00:00  added 03-10 10:00:00  removed 03-15 09:00:00
 *   c3 A  entered 03-20 08:00:00  never added (half-added)
 *   c4 B  entered 02-25 12:00:00  added 03-02 12:00:00  removed 03-09 12:00:00 (exactly added + 7 days)
 *   c5 B  entered 03-25 09:00:00  added 03-25 09:00:00
 *   c6 A  entered 02-01 10:00:00  added 02-01 10:00:00  (before the period: a buyer, not in the cohort)
 *   c7 -  entered 03-31 23:59:59  added 04-01 00:00:00  (no channel; added exactly at `to`: not in the cohort)
 *   c8 A  entered 03-02 00:00:00  added 03-02 00:00:00  removed 03-09 00:00:01 (one second after added + 7 days)
 *   w1 A  from WeCom callbacks: half-added 03-05 10:00, add confirmed 03-05 10:30, del_follow_user 03-20 10:00
 *
 * Orders:
 *   o1 c1 100.00 03-01 00:05:00 (exactly at added: converts)   o2 c1  50.50 03-20 12:00:00
 *   o3 c2  30.00 04-09 10:00:00 (exactly added + 30 days: does not convert; after `to`)
 *   o4 c2  20.00 04-09 09:59:59 (one second inside the 30 days: converts; after `to`, so not revenue or LTV)
 *   o5 c6 200.00 03-05 10:00:00                               o6 c6  80.00 02-10 10:00:00 (before the period)
 *   o7 c4  10.00 02-28 10:00:00 (before c4's add: no conversion, but counts in LTV: paid before `to`)
 *   o8 w1  99.99 03-31 23:59:59 (last second of the period)   o9 c7   1.00 04-01 00:00:00 (exactly `to`: outside)
 */
const CHANNELS_CSV = `state,name,cost
A,渠道A,1000
B,渠道B,0
C,渠道C,500.00
`;
const CONTACTS_CSV = `external_userid,name,follow_userid,state,entered_at,added_at,removed_at
c1,客户一,zhangsan,A,2026-03-01 00:00:00,2026-03-01 00:05:00,
c1,客户一,lisi,B,2026-03-15 00:00:00,2026-03-15 00:00:00,
c2,客户二,zhangsan,A,2026-03-10 10:00:00,2026-03-10 10:00:00,2026-03-15 09:00:00
c3,客户三,zhangsan,A,2026-03-20 08:00:00,,
c4,客户四,lisi,B,2026-02-25 12:00:00,2026-03-02 12:00:00,2026-03-09 12:00:00
c5,客户五,lisi,B,2026-03-25 09:00:00,2026-03-25 09:00:00,
c6,客户六,zhangsan,A,2026-02-01 10:00:00,2026-02-01 10:00:00,
c7,客户七,lisi,,2026-03-31 23:59:59,2026-04-01 00:00:00,
c8,客户八,zhangsan,A,2026-03-02 00:00:00,2026-03-02 00:00:00,2026-03-09 00:00:01
`;
const ORDERS_CSV = `order_id,external_userid,amount,paid_at
o1,c1,100.00,2026-03-01 00:05:00
o2,c1,50.5,2026-03-20 12:00:00
o3,c2,30,2026-04-09 10:00:00
o4,c2,20.00,2026-04-09 09:59:59
o5,c6,200,2026-03-05 10:00:00
o6,c6,80,2026-02-10 10:00:00
o7,c4,10,2026-02-28 10:00:00
o9,c7,1,2026-04-01 00:00:00
`;

const local = (text: string) => DateTime.fromFormat(text, 'yyyy-MM-dd HH:mm:ss', { zone: TIME_ZONE }).toJSDate();

let h: AdminHarness;

beforeAll(async () => {
  h = await startAdminHarness();
  for (const [kind, csv] of [['channels', CHANNELS_CSV], ['contacts', CONTACTS_CSV], ['orders', ORDERS_CSV]] as const) {
    const res = await h.upload(kind, csv);
    expect(res.status).toBe(200);
    expect((await res.json()) as unknown).toMatchObject({ rejected: [] });
  }
  // w1 arrives the way WeCom callbacks record it: half-add, confirmed add, then the customer deletes the rep.
  await h.pool.recordPendingFollow({ externalUserId: 'w1', userId: 'zhangsan', state: 'A', at: local('2026-03-05 10:00:00') });
  await h.pool.upsertFromWecom(
    { externalUserId: 'w1', name: '微信客户', type: 1, follows: [{ userId: 'zhangsan', addedAt: local('2026-03-05 10:30:00'), tagIds: [], state: 'A' }] },
    local('2026-03-05 10:30:00'),
  );
  await h.pool.endFollow({ externalUserId: 'w1', userId: 'zhangsan', status: 'lost', at: local('2026-03-20 10:00:00'), key: 'cb-w1-del' });
  expect(await h.orders.record({ orderId: 'o8', externalUserId: 'w1', amountFen: 9999, paidAt: local('2026-03-31 23:59:59') })).toBe('inserted');
});

afterAll(() => h?.close());

async function report(from: string, to: string): Promise<AnalyticsReport & { from: string; to: string }> {
  const res = await h.get(`/api/admin/analytics?from=${from}&to=${to}`);
  expect(res.status).toBe(200);
  return (await res.json()) as AnalyticsReport & { from: string; to: string };
}

describe('GET /api/admin/analytics on the hand-made data set', () => {
  it('computes every overall metric as worked out by hand', async () => {
    const r = await report('2026-03-01', '2026-04-01');
    expect(r.from).toBe('2026-03-01');
    expect(r.to).toBe('2026-04-01');
    expect(Object.keys(r.overall).sort()).toEqual(
      ['added', 'conversionRate', 'entered', 'ltv', 'passRate', 'repurchaseRate', 'retention30', 'retention7', 'revenue'].sort(),
    );
    // entered in the period: c1 (03-01 00:00, the first instant), c2, c3, c5, c7 (the last second), c8, w1 = 7;
    // c4 and c6 entered before. With an added_at: all but c3 (c7's add at `to` still counts as non-empty) = 6.
    expect(r.overall.entered).toBe(7);
    expect(r.overall.passRate).toBeCloseTo(6 / 7, 12);
    // The cohort (added in the period): c1, c2, c4, c5, c8, w1 = 6 (c7 was added exactly at `to`).
    expect(r.overall.added).toBe(6);
    // retention7, eligible when added + 7 days <= to: c1, c2, c4, c8, w1 (c5: 04-01 09:00 > to) = 5.
    // Retained: c1 (never removed), c8 (removed 1 s after the mark), w1 (removed 03-20 > 03-12 10:30) = 3;
    // not c2 (removed on day 5) nor c4 (removed exactly at the mark: not "after").
    expect(r.overall.retention7).toBeCloseTo(3 / 5, 12);
    // retention30, eligible: c1 (03-31 00:05 <= to), c8 (04-01 00:00 == to) = 2; retained: c1 = 1.
    expect(r.overall.retention30).toBeCloseTo(1 / 2, 12);
    // conversion: c1 (o1 at its add), c2 (o4, 1 s inside 30 days), w1 (o8) of 6; not c4 (o7 before its add), c5, c8.
    expect(r.overall.conversionRate).toBeCloseTo(3 / 6, 12);
    // buyers in the period: c1 (o1, o2), c6 (o5; o6 is before), w1 (o8) = 3; with two orders: c1 = 1.
    expect(r.overall.repurchaseRate).toBeCloseTo(1 / 3, 12);
    // revenue: o1 100 + o2 50.50 + o5 200 + o8 99.99 = 450.49 (o9 at `to` and o3/o4 after are outside).
    expect(r.overall.revenue).toBeCloseTo(450.49, 10);
    // ltv: cohort spend before `to`: c1 150.50 + c2 0 + c4 10 (o7) + c5 0 + c8 0 + w1 99.99 = 260.49, over 6 members.
    expect(r.overall.ltv).toBeCloseTo(260.49 / 6, 10);
  });

  it('scopes metrics to each channel by the first relation`s state, with ROI against cost', async () => {
    const r = await report('2026-03-01', '2026-04-01');
    expect(r.channels.map((c) => c.state)).toEqual(['A', 'B', 'C']);
    const [a, b, c] = r.channels;
    // A: c1, c2, c3, c6, c8, w1. entered c1 c2 c3 c8 w1 = 5, with added_at 4; cohort c1 c2 c8 w1 = 4.
    expect(a).toMatchObject({ state: 'A', name: '渠道A', cost: 1000, entered: 5, added: 4 });
    expect(a!.passRate).toBeCloseTo(4 / 5, 12);
    expect(a!.retention7).toBeCloseTo(3 / 4, 12); // eligible c1 c2 c8 w1; retained c1 c8 w1
    expect(a!.retention30).toBeCloseTo(1 / 2, 12); // eligible c1 c8; retained c1
    expect(a!.conversionRate).toBeCloseTo(3 / 4, 12); // c1 c2 w1
    expect(a!.repurchaseRate).toBeCloseTo(1 / 3, 12); // buyers c1 c6 w1; repeat c1
    expect(a!.revenue).toBeCloseTo(450.49, 10);
    expect(a!.ltv).toBeCloseTo((150.5 + 99.99) / 4, 10);
    expect(a!.roi).toBeCloseTo((450.49 - 1000) / 1000, 12);
    // B: c4, c5 (c1's later relation with lisi in B does not move c1). entered c5 = 1 (added); cohort c4 c5.
    expect(b).toMatchObject({ state: 'B', cost: 0, entered: 1, added: 2, passRate: 1, retention7: 0, retention30: null, conversionRate: 0, repurchaseRate: null, revenue: 0, ltv: 5, roi: null });
    // C: nobody — every rate null, revenue 0, roi (0 - 500) / 500 = -1.
    expect(c).toEqual({ state: 'C', name: '渠道C', cost: 500, entered: 0, added: 0, passRate: null, retention7: null, retention30: null, conversionRate: null, repurchaseRate: null, revenue: 0, ltv: null, roi: -1 });
  });

  it('answers null rates for a period with nobody in it', async () => {
    const r = await report('2025-01-01', '2025-01-02');
    expect(r.overall).toEqual({ entered: 0, added: 0, passRate: null, retention7: null, retention30: null, conversionRate: null, repurchaseRate: null, revenue: 0, ltv: null });
  });

  it('gives a per-day series whose points are the report of each day', async () => {
    const res = await h.get('/api/admin/analytics/series?from=2026-03-01&to=2026-03-03');
    const body = (await res.json()) as { interval: string; points: Array<AnalyticsReport & { label: string }> };
    expect(body.interval).toBe('day');
    expect(body.points.map((p) => p.label)).toEqual(['2026-03-01', '2026-03-02']);
    // 03-01: c1 entered and added, bought o1 (100) that day. 03-02: c4 and c8 added, c8 entered.
    expect(body.points[0]!.overall).toMatchObject({ entered: 1, added: 1, revenue: 100, conversionRate: 1 });
    expect(body.points[1]!.overall).toMatchObject({ entered: 1, added: 2, revenue: 0 });
  });

  it('refuses a malformed or reversed period with 400, and strangers with 401', async () => {
    expect((await h.get('/api/admin/analytics?from=2026-3-1&to=2026-04-01')).status).toBe(400);
    const reversed = await h.get('/api/admin/analytics?from=2026-04-01&to=2026-03-01');
    expect(reversed.status).toBe(400);
    expect(((await reversed.json()) as { message: string }).message).toContain('to: must be after from');
    expect((await fetch(`${h.base}/api/admin/analytics?from=2026-03-01&to=2026-04-01`)).status).toBe(401);
  });

  it('reflects orders and relations written after an earlier report (the mirror reads what changed)', async () => {
    await report('2026-03-01', '2026-04-01');
    // c5 (channel B) buys 10.00 on 03-26, a day after its add; c3 (A) gets its add confirmed on 03-21.
    expect(await h.orders.record({ orderId: 'o10', externalUserId: 'c5', amountFen: 1000, paidAt: local('2026-03-26 09:00:00') })).toBe('inserted');
    const reimport = await h.upload('contacts', 'external_userid,name,follow_userid,state,entered_at,added_at,removed_at\nc3,客户三,zhangsan,A,2026-03-20 08:00:00,2026-03-21 08:00:00,\n');
    expect(await reimport.json()).toEqual({ inserted: 0, updated: 1, rejected: [] });
    const r = await report('2026-03-01', '2026-04-01');
    // entered 7, now all with added_at; cohort + c3 = 7; converted + c5 = 4; revenue + 10; buyers + c5 = 4.
    expect(r.overall).toMatchObject({ entered: 7, passRate: 1, added: 7 });
    expect(r.overall.conversionRate).toBeCloseTo(4 / 7, 12);
    expect(r.overall.revenue).toBeCloseTo(460.49, 10);
    expect(r.overall.repurchaseRate).toBeCloseTo(1 / 4, 12);
    expect(r.channels[1]).toMatchObject({ state: 'B', revenue: 10, conversionRate: 0.5, repurchaseRate: 0 });
  });
});
