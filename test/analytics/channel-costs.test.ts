import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsReport } from '../../server/src/analytics/index.ts';
import { startAdminHarness, type AdminHarness } from '../import/harness.ts';

/**
 * Two months of one paid channel. ads: 3,000 yuan over November, 6,200 over December (dated costs,
 * `to` exclusive); legacy: an undated cost of 500 (counted whole in any period, as before dated costs).
 * Revenue of ads: November 6,000 (a1), December 3,100 (a2). All times Asia/Shanghai.
 */
const CHANNELS_CSV = 'state,name,cost\nads,信息流,999\nlegacy,老渠道,500\n';
const CONTACTS_CSV = `external_userid,name,follow_userid,state,entered_at,added_at,removed_at
a1,客户一,zhangsan,ads,2026-11-03 10:00:00,2026-11-03 10:00:00,
a2,客户二,zhangsan,ads,2026-12-02 10:00:00,2026-12-02 10:00:00,
`;
const ORDERS_CSV = `order_id,external_userid,amount,paid_at
n1,a1,6000,2026-11-10 12:00:00
d1,a2,3100,2026-12-20 12:00:00
`;

let h: AdminHarness;

beforeAll(async () => {
  h = await startAdminHarness();
  for (const [kind, csv] of [['channels', CHANNELS_CSV], ['contacts', CONTACTS_CSV], ['orders', ORDERS_CSV]] as const) {
    expect((await h.upload(kind, csv)).status).toBe(200);
  }
  const day = (text: string) => new Date(`${text}T00:00:00Z`);
  await h.contacts.Channel.updateOne(
    { state: 'ads' },
    { $set: { costs: [{ from: day('2026-11-01'), to: day('2026-12-01'), amount: 3000 }, { from: day('2026-12-01'), to: day('2027-01-01'), amount: 6200 }] } },
  );
});

afterAll(() => h?.close());

async function channel(from: string, to: string, state: string) {
  const res = await h.get(`/api/admin/analytics?from=${from}&to=${to}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as AnalyticsReport).channels.find((c) => c.state === state)!;
}

describe('ROI against dated channel costs', () => {
  it('counts each month its own spend, not the channel’s all-time cost', async () => {
    const november = await channel('2026-11-01', '2026-12-01', 'ads');
    expect(november).toMatchObject({ cost: 3000, revenue: 6000, roi: 1 });
    const december = await channel('2026-12-01', '2027-01-01', 'ads');
    expect(december).toMatchObject({ cost: 6200, revenue: 3100, roi: -0.5 });
  });

  it('prorates a spend by the days it shares with the period', async () => {
    // 15 of November's 30 days and 15 of December's 31: 1,500 + 3,000.
    expect((await channel('2026-11-16', '2026-12-16', 'ads')).cost).toBe(4500);
    // Both months whole, and a period the spend does not touch.
    expect((await channel('2026-11-01', '2027-01-01', 'ads')).cost).toBe(9200);
    const october = await channel('2026-10-01', '2026-11-01', 'ads');
    expect(october).toMatchObject({ cost: 0, roi: null });
  });

  it('counts an undated cost whole in any period, as before dated costs', async () => {
    expect((await channel('2026-11-01', '2026-12-01', 'legacy')).cost).toBe(500);
    expect((await channel('2026-12-01', '2027-01-01', 'legacy')).cost).toBe(500);
  });
});
