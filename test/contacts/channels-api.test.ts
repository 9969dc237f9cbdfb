import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactsAdminModule, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';

const TOKEN = 'admin-token-for-tests-0123';
let store: Awaited<ReturnType<typeof openTestStore>>;
let models: ContactModels;
let http: ServedModules;
let base: string;

beforeAll(async () => {
  store = await openTestStore();
  models = registerContactModels(store.connection);
  await Promise.all(Object.values(models).map((m) => m.init()));
  await models.Tag.create({ tagId: 'et-douyin', name: '抖音', groupId: 'g1', groupName: '来源渠道' });
  http = await serveModules([contactsAdminModule({ models, adminGuard: requireAdmin(TOKEN) })]);
  base = `${http.base}/api/admin/channels`;
});

afterAll(async () => {
  await http?.close();
  await store?.dispose();
});

const put = (state: string, body: unknown, token = TOKEN) =>
  fetch(`${base}/${encodeURIComponent(state)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

describe('channels admin API', () => {
  it('refuses callers without the admin token (401) or with a wrong one (403)', async () => {
    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(base, { headers: { authorization: 'Bearer wrong' } })).status).toBe(403);
    expect((await put('douyin', { name: 'x' }, 'wrong-token-of-same-len!!!')).status).toBe(403);
  });

  it('creates and updates a channel with its auto-tags, and lists it', async () => {
    const created = await put('douyin_618', { name: '抖音直播间', tagIds: ['et-douyin'], cost: 1200 });
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ channel: expect.objectContaining({ state: 'douyin_618', tagIds: ['et-douyin'], cost: 1200 }) });
    await put('douyin_618', { name: '抖音直播间（改）', tagIds: [] });
    const list = (await (await fetch(base, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      channels: Array<{ state: string; name: string; tagIds: string[] }>;
    };
    expect(list.channels).toEqual([expect.objectContaining({ state: 'douyin_618', name: '抖音直播间（改）', tagIds: [] })]);
  });

  it('names what is wrong in a bad request and stores nothing', async () => {
    const missingName = await put('ok', { tagIds: [] });
    expect(missingName.status).toBe(400);
    expect(((await missingName.json()) as { issues: Array<{ path: string }> }).issues[0]?.path).toBe('name');

    const unknownTag = await put('ok', { name: 'x', tagIds: ['nope'] });
    expect(unknownTag.status).toBe(400);
    expect(((await unknownTag.json()) as { message: string }).message).toMatch(/^tagIds: unknown tag ids nope/);

    const longState = await put('s'.repeat(31), { name: 'x' });
    expect(longState.status).toBe(400);
    expect(await models.Channel.countDocuments({ state: 'ok' })).toBe(0);
  });

  it('treats an operator smuggled in a body as data', async () => {
    const res = await put('inj', { name: 'x', tagIds: [{ $ne: null }] });
    expect(res.status).toBe(400);
  });

  it('keeps dated costs (to exclusive), answers them as dates, and keeps them when a caller omits them', async () => {
    const res = await put('ads', { name: '信息流', costs: [{ from: '2026-11-01', to: '2026-12-01', amount: 3000, note: '11 月投放' }, { from: '2026-12-01', to: '2027-01-01', amount: 6000 }] });
    expect(res.status).toBe(200);
    const costs = [
      { from: '2026-11-01', to: '2026-12-01', amount: 3000, note: '11 月投放' },
      { from: '2026-12-01', to: '2027-01-01', amount: 6000, note: '' },
    ];
    expect(((await res.json()) as { channel: { costs: unknown } }).channel.costs).toEqual(costs);
    // A caller from before dated costs (name and tags only) does not wipe them.
    const renamed = await put('ads', { name: '信息流（改）' });
    expect(((await renamed.json()) as { channel: { costs: unknown } }).channel.costs).toEqual(costs);
  });

  it('names each bad cost entry by its number and field, in Chinese, and changes nothing', async () => {
    await put('ads2', { name: '搜索', costs: [{ from: '2026-10-01', to: '2026-11-01', amount: 100 }] });
    const res = await put('ads2', {
      name: '搜索',
      costs: [
        { from: '2026-11-01', to: '2026-12-01', amount: 1 },
        { from: '2026-02-30', to: '2026-03-01', amount: 1 },
        { from: '2026-12-01', to: '2026-12-01', amount: 1 },
        { from: '2026-12-01', to: '2026-12-31', amount: -5 },
      ],
    });
    expect(res.status).toBe(400);
    const issues = ((await res.json()) as { issues: Array<{ path: string; message: string }> }).issues;
    expect(issues).toEqual([
      { path: 'costs.1.from', message: '第 2 条成本：开始日期不是有效的日期：2026-02-30' },
      { path: 'costs.2.to', message: '第 3 条成本：结束日期须晚于开始日期（结束日期当天不计入）' },
      { path: 'costs.3.amount', message: '第 4 条成本：金额不能为负数' },
    ]);
    const kept = await models.Channel.findOne({ state: 'ads2' }).lean();
    expect(kept?.costs).toHaveLength(1);
  });
});
