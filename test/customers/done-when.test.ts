import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allPages, startCustomersHarness, type CustomersHarness } from './harness.ts';

/**
 * Issue 14's first Done-when: a data set imported through the CSV import; the list's total for
 * channel=offline-expo&minOrders=1 is the number of those contacts with an order, paging returns each
 * once, and a segment with the same filter counts the same.
 */
let h: CustomersHarness;
const CHANNELS = ['offline-expo', 'douyin', 'referral', ''];
const N = 240;
const id = (i: number) => `wmDW${String(i).padStart(4, '0')}`;
/** The expected members, from the data set itself. */
const expected = new Set<string>();

beforeAll(async () => {
  h = await startCustomersHarness();
  const contacts = ['external_userid,name,follow_userid,state,entered_at,added_at,removed_at'];
  const orders = ['order_id,external_userid,amount,paid_at'];
  for (let i = 0; i < N; i++) {
    const channel = CHANNELS[i % CHANNELS.length]!;
    const day = String(1 + (i % 28)).padStart(2, '0');
    const removed = i % 7 === 0 ? `2026-05-${day} 12:00:00` : '';
    contacts.push(`${id(i)},客户${i},${i % 2 ? 'lina' : 'zhangwei'},${channel},2026-04-${day} 09:00:00,2026-04-${day} 09:05:00,${removed}`);
    const orderCount = i % 3; // 0, 1 or 2 orders
    for (let k = 0; k < orderCount; k++) orders.push(`O-${i}-${k},${id(i)},${10 + k}.50,2026-05-${day} 20:00:00`);
    if (channel === 'offline-expo' && orderCount >= 1) expected.add(id(i));
  }
  // A second rep relation made later through another channel does not change the contact's channel.
  contacts.push(`${id(1)},客户1,wangfang,offline-expo,2026-05-20 09:00:00,2026-05-20 09:00:00,`);
  for (const [kind, csv] of [['contacts', contacts], ['orders', orders]] as const) {
    const res = await h.admin.upload(kind, csv.join('\n'));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rejected: unknown[] }).rejected).toEqual([]);
  }
});
afterAll(() => h?.close());

describe('Done when: imported data, the list and a segment agree', () => {
  it('answers the total of imported offline-expo contacts with an order, pages each once, and the segment counts the same', async () => {
    expect(expected.size).toBeGreaterThan(10);
    const { total, ids, pages } = await allPages(h, 'channel=offline-expo&minOrders=1&limit=7');
    expect(total).toBe(expected.size);
    expect(pages).toBeGreaterThan(2);
    expect(ids).toHaveLength(new Set(ids).size);
    expect(new Set(ids)).toEqual(expected);

    const res = await h.send('POST', '/api/admin/segments', { name: '展会已购', filter: { channels: ['offline-expo'], minOrders: 1 } });
    expect(res.status).toBe(201);
    const { segment } = (await res.json()) as { segment: { id: string; count: number; name: string } };
    expect(segment).toMatchObject({ name: '展会已购', count: expected.size });

    const count = await h.send('POST', '/api/admin/segments/count', { filter: { channels: ['offline-expo'], minOrders: 1 } });
    expect(await count.json()).toEqual({ count: expected.size });
    const members: string[] = [];
    for await (const member of h.customers.audience({ segmentId: segment.id })) members.push(member.externalUserId);
    expect(new Set(members)).toEqual(expected);
  });

  it('sees a later import at the next answer (delta refresh, no write path touched)', async () => {
    // An offline-expo contact without an order until now:
    const none = [...Array(N).keys()].find((i) => i % 4 === 0 && i % 3 === 0)!;
    await h.admin.upload('orders', `order_id,external_userid,amount,paid_at\nLATE-2,${id(none)},5,2026-06-01 10:00:00`);
    const count = await h.customers.count({ channels: ['offline-expo'], minOrders: 1 });
    expect(count).toBe(expected.size + 1);
    expect(await h.customers.has({ channels: ['offline-expo'], minOrders: 1 }, id(none))).toBe(true);
  });
});
