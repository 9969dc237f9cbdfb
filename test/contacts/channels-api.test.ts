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
});
