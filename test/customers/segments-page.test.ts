import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCustomersHarness, type CustomersHarness } from './harness.ts';

let h: CustomersHarness;
const NOW = new Date('2026-06-15T02:00:00Z');

beforeAll(async () => {
  h = await startCustomersHarness(NOW);
  const { contacts } = h.admin;
  await contacts.Contact.create(Array.from({ length: 30 }, (_, i) => ({ externalUserId: `wm-s${String(i).padStart(2, '0')}`, name: i === 0 ? '=HYPERLINK("x")' : `客户${i}`, lastActivityAt: NOW })));
  await contacts.FollowRelation.create(Array.from({ length: 30 }, (_, i) => ({ externalUserId: `wm-s${String(i).padStart(2, '0')}`, userId: i % 2 ? 'lina' : 'zhangwei', state: i % 3 ? 'douyin' : 'offline-expo', addedAt: NOW, enteredAt: NOW })));
  await h.admin.orders.record({ orderId: 'p-1', externalUserId: 'wm-s00', amountFen: 12_345, paidAt: NOW });
  await h.admin.pool.addTimeline({ externalUserId: 'wm-s00', userId: null, at: NOW, kind: 'message_in', key: 'm-1', data: { text: '你好' } });
});
afterAll(() => h?.close());

describe('segments', () => {
  it('creates, reads, lists, updates, previews and deletes, each with a live count', async () => {
    const created = await h.send('POST', '/api/admin/segments', { name: '展会客户', filter: { channels: ['offline-expo'] } });
    expect(created.status).toBe(201);
    const { segment } = (await created.json()) as { segment: { id: string; count: number } };
    expect(segment.count).toBe(10);
    expect(((await (await h.get(`/api/admin/segments/${segment.id}`)).json()) as { segment: { count: number } }).segment.count).toBe(10);
    // Live: a new contact of the channel counts at once.
    await h.admin.contacts.Contact.create({ externalUserId: 'wm-s99', name: '新客' });
    await h.admin.contacts.FollowRelation.create({ externalUserId: 'wm-s99', userId: 'lina', state: 'offline-expo', addedAt: NOW });
    const listed = (await (await h.get('/api/admin/segments')).json()) as { segments: Array<{ id: string; count: number }> };
    expect(listed.segments.find((s) => s.id === segment.id)?.count).toBe(11);
    const updated = (await (await h.send('PUT', `/api/admin/segments/${segment.id}`, { filter: { channels: ['offline-expo'], reps: ['lina'] } })).json()) as { segment: { count: number; name: string } };
    expect(updated.segment).toMatchObject({ name: '展会客户', count: 6 });
    const preview = (await (await h.get(`/api/admin/segments/${segment.id}/preview`)).json()) as { count: number; items: unknown[] };
    expect(preview).toMatchObject({ count: 6 });
    expect(preview.items).toHaveLength(6);
    expect((await h.send('DELETE', `/api/admin/segments/${segment.id}`)).status).toBe(204);
    expect((await h.get(`/api/admin/segments/${segment.id}`)).status).toBe(404);
  });

  it('refuses a bad filter naming the field', async () => {
    const res = await h.send('POST', '/api/admin/segments', { name: 'x', filter: { minOrders: 'many' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('filter.minOrders');
    expect((await h.send('POST', '/api/admin/segments/count', { filter: { colour: 'red' } })).status).toBe(400);
  });
});

describe('CSV export', () => {
  it('streams the filtered list with a BOM, Chinese headers, X-Total-Count and defused formulas', async () => {
    const res = await h.get('/api/admin/contacts/export.csv?rep=zhangwei');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-total-count')).toBe('15');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes.slice(3)).trim().split('\r\n');
    expect(lines[0]).toMatch(/^客户ID,姓名,企业,跟进员工,标签,阶段,评分,渠道,订单数,消费金额\(元\)/);
    expect(lines).toHaveLength(16);
    expect(lines.find((l) => l.startsWith('wm-s00'))).toContain(`"'=HYPERLINK(""x"")"`);
    expect(lines.find((l) => l.startsWith('wm-s00'))).toContain('123.45');
  });
});

describe('customer page', () => {
  it('shows profile, relations, stage, score with reasons, orders and the timeline paged; the stage override is set there', async () => {
    const res = await h.get('/api/admin/contacts/wm-s00?timelineLimit=1');
    expect(res.status).toBe(200);
    const page = (await res.json()) as {
      relations: unknown[];
      stage: { effective: string; override: string | null };
      score: { value: number; reasons: Array<{ code: string }> };
      orders: { count: number; items: unknown[] };
      timeline: { items: Array<{ kind: string }>; nextCursor: string | null };
    };
    expect(page.relations).toHaveLength(1);
    expect(page.stage).toMatchObject({ effective: 'first_purchase', override: null });
    expect(page.score.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['active_7d', 'orders', 'replies']));
    expect(page.orders.count).toBe(1);
    expect(page.timeline.items).toHaveLength(1);
    const next = (await (await h.get(`/api/admin/contacts/wm-s00?timelineLimit=1&timelineCursor=${page.timeline.nextCursor}`)).json()) as typeof page;
    expect(next.timeline.items).toHaveLength(1);
    expect(next.timeline.items[0]!.kind).not.toBe(page.timeline.items[0]!.kind);

    const set = await h.send('PUT', '/api/admin/contacts/wm-s00/stage', { stage: 'repeat' });
    expect(await set.json()).toEqual({ computed: 'first_purchase', override: 'repeat', effective: 'repeat' });
    expect((await h.customers.count({ stages: ['repeat'] }))).toBe(1);
    await h.send('PUT', '/api/admin/contacts/wm-s00/stage', { stage: null });
    expect((await h.customers.count({ stages: ['repeat'] }))).toBe(0);
    expect((await h.get('/api/admin/contacts/nobody')).status).toBe(404);
  });
});
