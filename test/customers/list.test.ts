import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allPages, startCustomersHarness, type CustomersHarness, type ListPage } from './harness.ts';

let h: CustomersHarness;
const NOW = new Date('2026-06-15T02:00:00Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

const ids = async (query: string) => {
  const res = await h.get(`/api/admin/contacts?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as ListPage).items.map((i) => i.externalUserId).sort();
};

beforeAll(async () => {
  h = await startCustomersHarness(NOW);
  const { contacts, orders } = h.admin;
  await contacts.Tag.create([
    { tagId: 't-a', name: 'A类-高意向', groupId: 'g1', groupName: '意向' },
    { tagId: 't-b', name: 'B类-跟进中', groupId: 'g1', groupName: '意向' },
    { tagId: 't-vip', name: 'VIP', groupId: 'g2', groupName: '等级' },
  ]);
  await contacts.Contact.create([
    { externalUserId: 'wm-a', name: '陈静', corpName: '云帆科技', lastActivityAt: ago(2) },
    { externalUserId: 'wm-b', name: '孙丽', corpName: '速达物流', phone: '13800000001', lastActivityAt: ago(40) },
    { externalUserId: 'wm-c', name: '王强', corpName: '(a.b)*', lastActivityAt: ago(10) },
    { externalUserId: 'wm-d', name: '赵敏', lastActivityAt: ago(1) },
  ]);
  await contacts.FollowRelation.create([
    { externalUserId: 'wm-a', userId: 'lina', state: 'offline-expo', tagIds: ['t-a', 't-vip'], enteredAt: ago(60), addedAt: ago(60) },
    { externalUserId: 'wm-a', userId: 'zhangwei', state: 'douyin', tagIds: ['t-b'], enteredAt: ago(5), addedAt: ago(5) },
    { externalUserId: 'wm-b', userId: 'zhangwei', state: 'douyin', tagIds: ['t-b'], enteredAt: ago(50), addedAt: ago(50) },
    { externalUserId: 'wm-c', userId: 'lina', remark: '王总-重点', state: null, status: 'lost', enteredAt: ago(30), addedAt: ago(30), removedAt: ago(3) },
    { externalUserId: 'wm-d', userId: 'lina', state: 'offline-expo', tagIds: ['t-vip'], enteredAt: ago(20), addedAt: ago(20) },
  ]);
  await h.admin.orders.recordMany([
    { orderId: 'o1', externalUserId: 'wm-a', amountFen: 10_000, paidAt: ago(3) },
    { orderId: 'o2', externalUserId: 'wm-a', amountFen: 5_000, paidAt: ago(2) },
    { orderId: 'o3', externalUserId: 'wm-d', amountFen: 900, paidAt: ago(1) },
  ]);
  await contacts.CustomerGroup.create({ chatId: 'chat-1', name: '展会群', members: [{ userId: 'wm-d', type: 2 }, { userId: 'lina', type: 1 }] });
});
afterAll(() => h?.close());

describe('GET /api/admin/contacts filters', () => {
  it('needs admin rights', async () => {
    expect((await fetch(`${h.http.base}/api/admin/contacts`)).status).toBe(401);
    expect((await fetch(`${h.http.base}/api/admin/contacts`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(403);
  });

  it('answers items with reps, tags, stage, score, channel, orders and spend', async () => {
    const res = await h.get('/api/admin/contacts?q=陈静');
    const { items } = (await res.json()) as ListPage;
    expect(items[0]).toMatchObject({
      externalUserId: 'wm-a',
      channel: 'offline-expo', // the first relation's, not the later douyin one
      orders: 2,
      spentFen: 15_000,
      stage: 'repeat',
      reps: [{ userId: 'lina', status: 'active' }, { userId: 'zhangwei', status: 'active' }],
    });
    expect(items[0]!.tags.map((t) => t.name).sort()).toEqual(['A类-高意向', 'B类-跟进中', 'VIP']);
    expect(items[0]!.score).toBeGreaterThan(50);
  });

  it('searches name, company, phone and a rep remark as plain text', async () => {
    expect(await ids('q=云帆')).toEqual(['wm-a']);
    expect(await ids('q=13800000001')).toEqual(['wm-b']);
    expect(await ids(`q=${encodeURIComponent('重点')}`)).toEqual(['wm-c']);
    expect(await ids(`q=${encodeURIComponent('(a.b)*')}`)).toEqual(['wm-c']);
    expect(await ids(`q=${encodeURIComponent('.*')}`)).toEqual([]);
  });

  it('filters by tags (all of, by id or name), anyTag and notTag', async () => {
    expect(await ids(`tag=t-vip&tag=${encodeURIComponent('A类-高意向')}`)).toEqual(['wm-a']);
    expect(await ids('anyTag=t-a&anyTag=t-b')).toEqual(['wm-a', 'wm-b']);
    expect(await ids('notTag=VIP')).toEqual(['wm-b', 'wm-c']);
    expect(await ids('tag=no-such-tag')).toEqual([]);
  });

  it('filters by stage, channel, rep, status and group', async () => {
    expect(await ids('stage=dormant')).toEqual(['wm-b']);
    expect(await ids('stage=churn_risk&stage=first_purchase')).toEqual(['wm-c', 'wm-d']);
    expect(await ids('channel=offline-expo')).toEqual(['wm-a', 'wm-d']);
    expect(await ids('rep=zhangwei')).toEqual(['wm-a', 'wm-b']);
    expect(await ids('status=lost')).toEqual(['wm-c']);
    expect(await ids('status=active')).toEqual(['wm-a', 'wm-b', 'wm-d']);
    expect(await ids('group=chat-1')).toEqual(['wm-d']);
  });

  it('filters by added and activity dates (YYYY-MM-DD in the time zone, or ISO)', async () => {
    expect(await ids(`addedFrom=${ago(25).toISOString()}`)).toEqual(['wm-d']);
    expect(await ids('addedTo=2026-05-01')).toEqual(['wm-a', 'wm-b']);
    expect(await ids(`activeSince=${ago(3).toISOString()}`)).toEqual(['wm-a', 'wm-d']);
    expect(await ids('inactiveSince=2026-06-01')).toEqual(['wm-b']);
    expect(await ids('inactiveSince=2026-06-10')).toEqual(['wm-b', 'wm-c']);
  });

  it('filters by score, orders and spend', async () => {
    const all = (await (await h.get('/api/admin/contacts?sort=score:desc')).json()) as ListPage;
    const top = all.items[0]!;
    expect(await ids(`minScore=${top.score}`)).toEqual([top.externalUserId]);
    expect(await ids(`maxScore=${all.items.at(-1)!.score}`)).toContain(all.items.at(-1)!.externalUserId);
    expect(await ids('minOrders=1')).toEqual(['wm-a', 'wm-d']);
    expect(await ids('minOrders=2')).toEqual(['wm-a']);
    expect(await ids('minSpentFen=1000')).toEqual(['wm-a']);
  });

  it('sorts by spent, ascending or descending', async () => {
    const desc = (await (await h.get('/api/admin/contacts?sort=spent')).json()) as ListPage;
    expect(desc.items.map((i) => i.externalUserId).slice(0, 2)).toEqual(['wm-a', 'wm-d']);
    const asc = (await (await h.get('/api/admin/contacts?sort=spent:asc')).json()) as ListPage;
    expect(asc.items.at(-1)!.externalUserId).toBe('wm-a');
  });

  it('answers 400 naming the parameter', async () => {
    for (const [query, param] of [['limit=500', 'limit'], ['sort=name', 'sort'], ['stage=vip', 'stages'], ['addedFrom=yesterday', 'addedFrom'], ['colour=red', 'colour'], ['cursor=nonsense', 'cursor'], ['minOrders=-1', 'minOrders']] as const) {
      const res = await h.get(`/api/admin/contacts?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { message: string }).message, query).toContain(param);
    }
    const first = (await (await h.get('/api/admin/contacts?limit=1&sort=score')).json()) as ListPage;
    const mixed = await h.get(`/api/admin/contacts?limit=1&sort=spent&cursor=${first.nextCursor}`);
    expect(mixed.status).toBe(400);
  });
});

describe('cursor paging', () => {
  it('returns every match exactly once while contacts are being added, in every sort', async () => {
    const { Contact, FollowRelation } = h.admin.contacts;
    const seed = Array.from({ length: 60 }, (_, i) => `wm-p${String(i).padStart(3, '0')}`);
    await Contact.insertMany(seed.map((id, i) => ({ externalUserId: id, name: `分页${i}`, lastActivityAt: ago(i % 9) })));
    // Many ties on addedAt (every third one shares a day): the id breaks them.
    await FollowRelation.insertMany(seed.map((id, i) => ({ externalUserId: id, userId: 'pager', state: 'paging', enteredAt: ago(Math.floor(i / 3)), addedAt: ago(Math.floor(i / 3)) })));
    for (const sort of ['addedAt', 'addedAt:asc', 'lastActivityAt', 'score', 'spent:asc']) {
      let added = 0;
      const { total, ids } = await allPages(h, `rep=pager&limit=7&sort=${sort}`, async (page) => {
        // New customers arrive between pages, both with the newest and the oldest added time.
        const fresh = `wm-new-${sort}-${page}`;
        await Contact.create({ externalUserId: fresh, name: '新客', lastActivityAt: NOW });
        await FollowRelation.create({ externalUserId: fresh, userId: 'pager', state: 'paging', enteredAt: page % 2 ? NOW : ago(400), addedAt: page % 2 ? NOW : ago(400) });
        added++;
      });
      expect(ids.length, sort).toBe(new Set(ids).size);
      const existing = seed.filter((id) => ids.includes(id));
      expect(existing, sort).toEqual(expect.arrayContaining(seed));
      expect(ids.length, sort).toBeGreaterThanOrEqual(total);
      expect(added).toBeGreaterThan(5);
      const newcomers = { externalUserId: mongoose.trusted({ $regex: /^wm-new-/ }) };
      await FollowRelation.deleteMany(newcomers);
      await Contact.deleteMany(newcomers);
    }
  });
});
