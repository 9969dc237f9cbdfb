import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { groupWelcomeModule, registerGroupWelcomeModels, type GroupWelcomeModels } from '../../server/src/group-welcome/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { createWecomClient } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';

const ADMIN_TOKEN = 'group-welcome-admin-token';
const ADD = '/externalcontact/group_welcome_template/add';
const EDIT = '/externalcontact/group_welcome_template/edit';
const DEL = '/externalcontact/group_welcome_template/del';

let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let http: ServedModules;
let contacts: ContactModels;
let models: GroupWelcomeModels;

interface Welcome { text: string; templateId: string; notify: boolean; updatedAt: string; lastError: string | null }
interface Item { chatId: string; name: string; welcome: Welcome | null }

const call = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => {
  const res = await fetch(`${http.base}/api/admin/group-welcomes${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
};
const simTemplate = (templateId: string) => sim.state.groupWelcomeTemplates.get(templateId);

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator();
  contacts = registerContactModels(store.connection);
  models = registerGroupWelcomeModels(store.connection);
  await models.GroupWelcome.init();
  const client = createWecomClient({
    apiBase: sim.apiBase,
    corpId: sim.corp.corpId,
    secret: sim.corp.secret,
    logger: createLogger({ level: 'silent' }),
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
  });
  http = await serveModules([groupWelcomeModule({ models, contacts, client, adminGuard: requireAdmin(ADMIN_TOKEN) })]);
});

afterAll(async () => {
  await http?.close();
  await sim?.close();
  await store?.dispose();
});

beforeEach(async () => {
  sim.clearFaults();
  sim.resetCalls();
  sim.state.groupWelcomeTemplates.clear();
  await models.GroupWelcome.deleteMany({});
  await contacts.CustomerGroup.deleteMany({});
  await contacts.CustomerGroup.create([
    { chatId: 'wr-vip', name: 'VIP 客户群', owner: 'zhangsan', origin: 'wecom', memberCount: 12 },
    { chatId: 'wr-new', name: '新客群', owner: 'lisi', origin: 'wecom', memberCount: 3 },
    { chatId: 'bot:room-1', name: '机器人群', origin: 'bot' },
    { chatId: 'wr-gone', name: '已解散群', origin: 'wecom', status: 'dismissed' },
  ]);
});

describe('group welcome templates', () => {
  it('creates the WeCom template on the first save, with the text and notify', async () => {
    const text = '欢迎 %NICKNAME% 加入 VIP 客户群！';
    const saved = await call<{ welcome: Welcome }>('PUT', '/wr-vip', { text });
    expect(saved.status).toBe(201);
    expect(saved.body.welcome).toMatchObject({ text, notify: true, lastError: null });
    const template = simTemplate(saved.body.welcome.templateId);
    expect(template).toMatchObject({ text: { content: text }, notify: 1 });

    const quiet = await call<{ welcome: Welcome }>('PUT', '/wr-new', { text: '你好', notify: false });
    expect(simTemplate(quiet.body.welcome.templateId)).toMatchObject({ text: { content: '你好' }, notify: 0 });

    const list = await call<{ items: Item[] }>('GET', '');
    expect(list.status).toBe(200);
    // Active WeCom groups only: the bot room is welcomed by the bot, the dismissed group is gone.
    expect(list.body.items.map((i) => i.chatId)).toEqual(['wr-vip', 'wr-new']);
    expect(list.body.items.find((i) => i.chatId === 'wr-vip')!.welcome).toMatchObject({ text, templateId: saved.body.welcome.templateId });
  });

  it('lists each group with its welcome or null', async () => {
    await call('PUT', '/wr-vip', { text: '欢迎' });
    const { body } = await call<{ items: Item[] }>('GET', '');
    expect(Object.fromEntries(body.items.map((i) => [i.chatId, i.welcome?.text ?? null]))).toEqual({ 'wr-vip': '欢迎', 'wr-new': null });
  });

  it('edits the same template on later saves', async () => {
    const first = await call<{ welcome: Welcome }>('PUT', '/wr-vip', { text: '第一版' });
    sim.resetCalls();
    const second = await call<{ welcome: Welcome }>('PUT', '/wr-vip', { text: '第二版 %NICKNAME%' });
    expect(second.status).toBe(200);
    expect(second.body.welcome.templateId).toBe(first.body.welcome.templateId);
    expect(sim.calls(ADD)).toHaveLength(0);
    expect(sim.calls(EDIT)).toHaveLength(1);
    expect(simTemplate(first.body.welcome.templateId)?.text).toEqual({ content: '第二版 %NICKNAME%' });
    expect(sim.state.groupWelcomeTemplates.size).toBe(1);
    expect((await models.GroupWelcome.findOne({ chatId: 'wr-vip' }).lean())?.text).toBe('第二版 %NICKNAME%');
  });

  it('creates the template again when it was deleted in WeCom', async () => {
    const first = await call<{ welcome: Welcome }>('PUT', '/wr-vip', { text: '第一版' });
    sim.state.groupWelcomeTemplates.delete(first.body.welcome.templateId);
    const second = await call<{ welcome: Welcome }>('PUT', '/wr-vip', { text: '第二版' });
    expect(second.status).toBe(200);
    expect(second.body.welcome.templateId).not.toBe(first.body.welcome.templateId);
    expect(simTemplate(second.body.welcome.templateId)?.text).toEqual({ content: '第二版' });
  });

  it('deletes the template in WeCom, then the record', async () => {
    const saved = await call<{ welcome: Welcome }>('PUT', '/wr-vip', { text: '欢迎' });
    const removed = await call('DELETE', '/wr-vip');
    expect(removed.status).toBe(204);
    expect(sim.calls(DEL)).toHaveLength(1);
    expect(simTemplate(saved.body.welcome.templateId)).toBeUndefined();
    expect(await models.GroupWelcome.countDocuments({})).toBe(0);
    const again = await call<{ message: string }>('DELETE', '/wr-vip');
    expect(again.status).toBe(404);
    expect(again.body.message).toContain('没有设置入群欢迎语');
  });

  it('refuses a bad text with a Chinese message naming the field', async () => {
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 42 }, { text: '汉'.repeat(1334) }]) {
      const res = await call<{ message: string; issues: Array<{ path: string }> }>('PUT', '/wr-vip', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(/入群欢迎语（text）/);
      expect(res.body.issues[0]!.path).toBe('text');
    }
    // 4000 bytes exactly is allowed (1333 汉字 = 3999 bytes + 1 ASCII).
    expect((await call('PUT', '/wr-vip', { text: `${'汉'.repeat(1333)}a` })).status).toBe(201);
    const extra = await call<{ message: string }>('PUT', '/wr-new', { text: '好', owner: 'x' });
    expect(extra.status).toBe(400);
    expect(extra.body.message).toContain('只接受 text、notify');
    const notify = await call<{ message: string }>('PUT', '/wr-new', { text: '好', notify: 'yes' });
    expect(notify.body.message).toContain('通知群主（notify）');
    expect(sim.state.groupWelcomeTemplates.size).toBe(1);
  });

  it('answers 404 in Chinese for an unknown or dismissed group, 400 for a bot room', async () => {
    for (const chatId of ['wr-nope', 'wr-gone']) {
      const res = await call<{ message: string }>('PUT', `/${chatId}`, { text: '欢迎' });
      expect(res.status).toBe(404);
      expect(res.body.message).toContain(`没有客户群 ${chatId}`);
    }
    const bot = await call<{ message: string }>('PUT', '/bot%3Aroom-1', { text: '欢迎' });
    expect(bot.status).toBe(400);
    expect(bot.body.message).toContain('机器人');
    expect(sim.calls(ADD)).toHaveLength(0);
    expect(await models.GroupWelcome.countDocuments({})).toBe(0);
  });

  it('answers 502 when WeCom refuses the template, and stores nothing', async () => {
    sim.inject({ api: ADD, errcode: 48002 });
    const res = await call<{ error: string; message: string }>('PUT', '/wr-vip', { text: '欢迎' });
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('wecom_error');
    expect(res.body.message).toMatch(/^企业微信未能创建入群欢迎语：errcode 48002/);
    expect(await models.GroupWelcome.countDocuments({})).toBe(0);
    expect(sim.state.groupWelcomeTemplates.size).toBe(0);
  });

  it('answers 502 when the 素材库 is full', async () => {
    for (let i = 0; i < 100; i++) {
      sim.state.groupWelcomeTemplates.set(`t${i}`, { templateId: `t${i}`, text: { content: `${i}` }, notify: 0, createTime: 0 });
    }
    const res = await call<{ message: string }>('PUT', '/wr-vip', { text: '欢迎' });
    expect(res.status).toBe(502);
    expect(res.body.message).toContain('errcode 41058');
    expect(await models.GroupWelcome.countDocuments({})).toBe(0);
  });

  it('keeps the saved text when WeCom refuses an edit or a delete, and shows why', async () => {
    const saved = await call<{ welcome: Welcome }>('PUT', '/wr-vip', { text: '旧的' });
    sim.inject({ api: EDIT, errcode: 48002 });
    const edit = await call<{ message: string }>('PUT', '/wr-vip', { text: '新的' });
    expect(edit.status).toBe(502);
    expect(simTemplate(saved.body.welcome.templateId)?.text).toEqual({ content: '旧的' });
    const stored = (await models.GroupWelcome.findOne({ chatId: 'wr-vip' }).lean())!;
    expect(stored.text).toBe('旧的');
    expect(stored.lastError).toContain('48002');

    sim.inject({ api: DEL, errcode: 48002 });
    expect((await call('DELETE', '/wr-vip')).status).toBe(502);
    expect(await models.GroupWelcome.countDocuments({ chatId: 'wr-vip' })).toBe(1);
    expect(simTemplate(saved.body.welcome.templateId)).toBeDefined();

    // A later success clears the error.
    const ok = await call<{ welcome: Welcome }>('PUT', '/wr-vip', { text: '新的' });
    expect(ok.body.welcome).toMatchObject({ text: '新的', lastError: null });
  });

  it('needs the admin token', async () => {
    const res = await fetch(`${http.base}/api/admin/group-welcomes`);
    expect(res.status).toBe(401);
  });
});

describe('simulator group welcome templates', () => {
  it('get answers the content, and unknown ids answer 41057', async () => {
    const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger: createLogger({ level: 'silent' }) });
    const id = await client.groupWelcome.add({ text: { content: '你好 %NICKNAME%' }, link: { title: '官网', url: 'https://example.com' }, notify: 0 });
    expect(await client.groupWelcome.get(id)).toEqual({ text: { content: '你好 %NICKNAME%' }, link: { title: '官网', url: 'https://example.com' } });
    await client.groupWelcome.del(id);
    await expect(client.groupWelcome.get(id)).rejects.toMatchObject({ errcode: 41057 });
    await expect(client.groupWelcome.edit({ template_id: id, text: { content: 'x' } })).rejects.toMatchObject({ errcode: 41057 });
    await expect(client.groupWelcome.add({ text: { content: 'x' }, image: { pic_url: 'https://a/b.png' }, link: { title: 't', url: 'https://a' } })).rejects.toMatchObject({ errcode: 40058 });
  });
});
