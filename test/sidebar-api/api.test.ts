import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../server/src/auth/index.ts';
import { Sessions } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { DEMO_SCRIPTS, ScriptLibrary, registerScriptModels } from '../../server/src/script-library/index.ts';
import { createSidebarApi } from '../../server/src/sidebar-api/index.ts';
import { createRepTask } from '../../server/src/tasks/index.ts';
import { createWecomClient } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';
import { buildSop, planFromYaml, TestClock, type SopHarness } from '../sop/harness.ts';
import { Replies } from '../../server/src/replies/index.ts';

const logger = createLogger({ level: 'silent' });
const clock = new TestClock(Date.parse('2026-06-01T02:00:00Z'));
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let harness: SopHarness;
let server: ServedModules;
let base: string;
let chenJing: string; // zhangwei's customer
let zhaoLei: string; // wangfang's customer, not zhangwei's

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator({ seed: 'demo' });
  harness = await buildSop(store.connection, sim, clock);
  const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger });
  const scripts = new ScriptLibrary(registerScriptModels(store.connection));
  await scripts.init();
  // One script whose variable has no default, beside the demo's (which all give one).
  await scripts.seed([...DEMO_SCRIPTS, { key: 'ask-company-it', category: '产品咨询', title: '对接 IT', content: '我安排技术同事和{{company}}的 IT 对接一次。', stages: [], keywords: [], order: 99 }]);
  const sessions = new Sessions({ ttlMs: 3_600_000 });
  const corp = { corpId: sim.corp.corpId, agentId: String(sim.corp.agentId), oauthBase: sim.oauthBase };
  server = await serveModules(
    [
      authModule({ sessions, client, corp, publicUrl: null, adminToken: 'admin-token-0123456789', adminUserIds: [], demoReps: [...sim.state.reps.keys()], logger }),
      await createSidebarApi({
        connection: store.connection,
        sessions,
        contacts: harness.contacts,
        pool: harness.pool,
        tasks: harness.tasks,
        replies: new Replies({ pool: harness.pool, botEnabled: false }),
        scripts,
        sop: harness.sop.models,
        client,
        corp,
        now: clock.now,
      }),
    ],
    { cookieKeys: ['test-session-secret-0123456789-abcdef'] },
  );
  base = server.base;
  const idOf = async (name: string) => (await harness.contacts.Contact.findOne({ name }).lean())!.externalUserId;
  await harness.contacts.Channel.create({ state: 'expo_sh_2024', name: '上海零售展展位' });
  chenJing = await idOf('陈静');
  zhaoLei = await idOf('赵磊');
});

afterAll(async () => {
  await server?.close();
  await sim?.close();
  await store?.dispose();
});

/** Signs in as a demo rep and returns a fetch that carries the session cookie. */
async function as(rep: string) {
  const res = await fetch(`${base}/auth/demo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as: 'rep', userId: rep }) });
  expect(res.status).toBe(200);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return (path: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: { cookie, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
}

describe('sidebar API authorization', () => {
  it('answers 401 without a rep session', async () => {
    const res = await fetch(`${base}/api/sidebar/customers/${chenJing}/profile`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
  });

  it("answers 403 for another rep's customer, on reads and on writes", async () => {
    const zhangwei = await as('zhangwei');
    for (const [path, method, body] of [
      [`/api/sidebar/customers/${zhaoLei}/profile`, 'GET', undefined],
      [`/api/sidebar/customers/${zhaoLei}/timeline`, 'GET', undefined],
      [`/api/sidebar/customers/${zhaoLei}/tags`, 'PUT', { add: ['x'] }],
      [`/api/sidebar/customers/${zhaoLei}/notes`, 'POST', { key: 'note-key-403', text: 'hi' }],
      ['/api/sidebar/script-usage', 'POST', { key: 'usage-key-403', scriptKey: 'trial', action: 'send', externalUserId: zhaoLei }],
    ] as const) {
      const res = await zhangwei(path, { method, body });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect(await harness.contacts.TimelineEvent.countDocuments({ externalUserId: zhaoLei, kind: 'note' })).toBe(0);
  });

  it('lists only the customers the rep follows', async () => {
    const list = (await (await (await as('zhangwei'))('/api/sidebar/customers')).json()) as Array<{ name: string }>;
    expect(list.map((c) => c.name).sort()).toEqual(['林涛', '陈静'].sort());
  });

  it('refuses malformed ids and bodies with 400', async () => {
    const zhangwei = await as('zhangwei');
    expect((await zhangwei('/api/sidebar/customers/%24where/profile')).status).toBe(400);
    const res = await zhangwei(`/api/sidebar/customers/${chenJing}/tags`, { method: 'PUT', body: { add: [{ $ne: 1 }] } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe('sidebar API for the customer in front of the rep', () => {
  it('shows the profile: contact, relation, channel, stage and score with reasons', async () => {
    await harness.pool.addTimeline({ externalUserId: chenJing, at: new Date(clock.ms() - 86_400_000), kind: 'message_in', key: 't-msg-1', data: { text: '私有化部署多少钱？' } });
    const profile = (await (await (await as('zhangwei'))(`/api/sidebar/customers/${chenJing}/profile`)).json()) as Record<string, any>; // eslint-style escape: JSON shape checked below
    expect(profile.contact).toMatchObject({ name: '陈静', type: 1, corpName: '杭州云帆科技有限公司' });
    expect(profile.relation).toMatchObject({ remark: '陈静-云帆科技-CTO', state: 'expo_sh_2024', channelName: '上海零售展展位', status: 'active' });
    expect(profile.firstAddedBy).toMatchObject({ userId: 'zhangwei', name: '张伟' });
    expect(profile.stage).toEqual({ computed: 'new', override: null, overriddenBy: null, effective: 'new' });
    expect(profile.score.reasons.map((r: { code: string }) => r.code)).toEqual(['active_7d', 'replies', 'intent_tag', 'groups']);
    expect(profile.score.value).toBe(25 + 5 + 20 + 5);
    expect(profile.groups).toHaveLength(1);
  });

  it('lets the rep override the stage, and clear the override', async () => {
    const zhangwei = await as('zhangwei');
    const set = await zhangwei(`/api/sidebar/customers/${chenJing}/stage`, { method: 'PUT', body: { stage: 'repeat' } });
    // Who set it and when come with it (the SOP engine goes by the same stage).
    expect(await set.json()).toEqual({ computed: 'new', override: 'repeat', overriddenBy: { userId: 'zhangwei', name: '张伟', at: clock.now().toISOString() }, effective: 'repeat' });
    expect(await zhangwei(`/api/sidebar/customers/${chenJing}/stage`, { method: 'PUT', body: { stage: 'vip' } }).then((r) => r.status)).toBe(400);
    const cleared = await zhangwei(`/api/sidebar/customers/${chenJing}/stage`, { method: 'PUT', body: { stage: null } });
    expect(await cleared.json()).toMatchObject({ override: null, overriddenBy: null, effective: 'new' });
  });

  it('edits tags: mark_tag in WeCom, the relation in the store, and the timeline', async () => {
    const zhangwei = await as('zhangwei');
    const tagId = async (name: string) => (await harness.contacts.Tag.findOne({ name }).lean())!.tagId;
    const [douyin, highIntent] = [await tagId('抖音'), await tagId('A类-高意向')];
    const before = sim.calls('/externalcontact/mark_tag').length;
    const res = await zhangwei(`/api/sidebar/customers/${chenJing}/tags`, { method: 'PUT', body: { add: [douyin], remove: [highIntent] } });
    expect(res.status).toBe(200);
    const groups = (await res.json()) as Array<{ groupName: string; tags: Array<{ name: string; selected: boolean }> }>;
    const selected = groups.flatMap((g) => g.tags.filter((t) => t.selected).map((t) => t.name));
    expect(selected).toContain('抖音');
    expect(selected).not.toContain('A类-高意向');

    const calls = sim.calls('/externalcontact/mark_tag').slice(before);
    expect(calls.map((c) => c.body)).toEqual([{ userid: 'zhangwei', external_userid: chenJing, add_tag: [douyin], remove_tag: [highIntent] }]);
    const relation = await harness.contacts.FollowRelation.findOne({ externalUserId: chenJing, userId: 'zhangwei' }).lean();
    expect(relation!.tagIds).toContain(douyin);
    expect(relation!.tagIds).not.toContain(highIntent);

    const page = (await (await zhangwei(`/api/sidebar/customers/${chenJing}/timeline`)).json()) as { events: Array<{ kind: string; data: { added: string[]; removed: string[] } }> };
    expect(page.events.find((e) => e.kind === 'tags_changed')!.data).toMatchObject({ added: ['抖音'], removed: ['A类-高意向'] });

    const unknown = await zhangwei(`/api/sidebar/customers/${chenJing}/tags`, { method: 'PUT', body: { add: ['no-such-tag'] } });
    expect(unknown.status).toBe(400);
  });

  it('pages the timeline newest first, without gaps or repeats across equal timestamps', async () => {
    const same = new Date(clock.ms() - 3 * 86_400_000);
    for (let i = 0; i < 7; i++) {
      await harness.pool.addTimeline({ externalUserId: chenJing, at: i < 4 ? same : new Date(same.getTime() - i * 1000), kind: 'edited', key: `t-page-${i}`, data: { i } });
    }
    await harness.sop.models.Send.create({ key: 't-send-1', targetId: chenJing, day: '2026-05-29', marketing: true, channel: 'mass_send', state: 'sent', at: same, text: '7天培育：第3天' });
    const zhangwei = await as('zhangwei');
    const all = (await harness.contacts.TimelineEvent.countDocuments({ externalUserId: chenJing })) + 1;
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await zhangwei(`/api/sidebar/customers/${chenJing}/timeline?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, await res.clone().text()).toBe(200);
      const page = (await res.json()) as {
        events: Array<{ id: string; at: string }>;
        next: string | null;
      };
      seen.push(...page.events.map((e) => e.id));
      const times = page.events.map((e) => Date.parse(e.at));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      cursor = page.next;
      pages++;
    } while (cursor);
    expect(seen).toHaveLength(all);
    expect(new Set(seen).size).toBe(all);
    expect(pages).toBe(Math.ceil(all / 3));
    const first = (await (await zhangwei(`/api/sidebar/customers/${chenJing}/timeline?limit=50`)).json()) as { events: Array<{ kind: string; data: { text?: string } }> };
    expect(first.events.find((e) => e.kind === 'sop_sent')!.data.text).toBe('7天培育：第3天');
  });

  it('shows the rep tasks and lets the rep finish or snooze them', async () => {
    await createRepTask(harness.tasks, { key: 'task-renew', externalUserId: chenJing, userId: 'zhangwei', title: '电话沟通续费', dueAt: clock.now() });
    await createRepTask(harness.tasks, { key: 'task-other', externalUserId: chenJing, userId: 'lina', title: '别人的任务', dueAt: clock.now() });
    const zhangwei = await as('zhangwei');
    const tasks = (await (await zhangwei(`/api/sidebar/customers/${chenJing}/tasks`)).json()) as Array<{ _id: string; title: string }>;
    expect(tasks.map((t) => t.title)).toEqual(['电话沟通续费']);
    const id = tasks[0]!._id;
    const until = new Date(clock.ms() + 2 * 86_400_000).toISOString();
    const snoozed = await zhangwei(`/api/sidebar/customers/${chenJing}/tasks/${id}/snooze`, { method: 'POST', body: { until } });
    expect(await snoozed.json()).toMatchObject({ status: 'snoozed', dueAt: until });
    expect((await zhangwei(`/api/sidebar/customers/${chenJing}/tasks/${id}/snooze`, { method: 'POST', body: { until: '2001-01-01T00:00:00Z' } })).status).toBe(400);
    await zhangwei(`/api/sidebar/customers/${chenJing}/tasks/${id}/done`, { method: 'POST' });
    expect((await harness.tasks.findById(id).lean())!.status).toBe('done');
    const other = (await harness.tasks.findOne({ key: 'task-other' }).lean())!;
    expect((await zhangwei(`/api/sidebar/customers/${chenJing}/tasks/${String(other._id)}/done`, { method: 'POST' })).status).toBe(404);
  });

  it("lists the rep's open tasks across customers in 我的待办, soonest first, with the customer's name", async () => {
    const wangfangCustomer = (await harness.contacts.FollowRelation.findOne({ userId: 'wangfang', externalUserId: zhaoLei }).lean())!;
    const day = 86_400_000;
    await createRepTask(harness.tasks, { key: 'inbox-later', externalUserId: chenJing, userId: 'zhangwei', title: '发报价单', dueAt: new Date(clock.ms() + 2 * day) });
    await createRepTask(harness.tasks, { key: 'inbox-sooner', externalUserId: chenJing, userId: null, title: '机器人转人工', dueAt: new Date(clock.ms() + day) });
    await createRepTask(harness.tasks, { key: 'inbox-done', externalUserId: chenJing, userId: 'zhangwei', title: '已完成的', dueAt: clock.now() });
    await harness.tasks.updateOne({ key: 'inbox-done' }, { $set: { status: 'done' } });
    await createRepTask(harness.tasks, { key: 'inbox-not-mine', externalUserId: wangfangCustomer.externalUserId, userId: null, title: '别人客户的', dueAt: clock.now() });
    const zhangwei = await as('zhangwei');
    const res = await zhangwei('/api/sidebar/tasks');
    expect(res.status).toBe(200);
    const inbox = (await res.json()) as Array<{ title: string; externalUserId: string; customer: { name: string } }>;
    const titles = inbox.map((t) => t.title);
    expect(titles.indexOf('机器人转人工')).toBeLessThan(titles.indexOf('发报价单'));
    expect(titles).not.toContain('已完成的');
    expect(titles).not.toContain('别人客户的');
    expect(titles).not.toContain('别人的任务');
    expect(inbox.find((t) => t.title === '发报价单')).toMatchObject({ externalUserId: chenJing, customer: { name: '陈静' } });
    expect((await fetch(`${base}/api/sidebar/tasks`)).status).toBe(401);
  });

  it('saves notes once per client key, also on the timeline', async () => {
    const zhangwei = await as('zhangwei');
    const body = { key: 'note-0123456789', text: '周五前给报价单' };
    expect((await zhangwei(`/api/sidebar/customers/${chenJing}/notes`, { method: 'POST', body })).status).toBe(201);
    expect((await zhangwei(`/api/sidebar/customers/${chenJing}/notes`, { method: 'POST', body })).status).toBe(200);
    const notes = (await (await zhangwei(`/api/sidebar/customers/${chenJing}/notes`)).json()) as Array<{ text: string }>;
    expect(notes.map((n) => n.text)).toEqual(['周五前给报价单']);
    expect(await harness.contacts.TimelineEvent.countDocuments({ externalUserId: chenJing, kind: 'note' })).toBe(1);
    // Another rep reusing the key on their own customer gets a conflict, not this note.
    const zhouQiang = (await harness.contacts.Contact.findOne({ name: '周强' }).lean())!.externalUserId;
    const stolen = await (await as('lina'))(`/api/sidebar/customers/${zhouQiang}/notes`, { method: 'POST', body });
    expect(stolen.status).toBe(409);
    expect(await stolen.text()).not.toContain('周五前给报价单');
  });

  it('suggests scripts ranked for this customer, filled in, and records each use once', async () => {
    const zhangwei = await as('zhangwei');
    const scripts = (await (await zhangwei(`/api/sidebar/customers/${chenJing}/scripts`)).json()) as Array<{ key: string; text: string; reasons: Array<{ text: string }> }>;
    expect(scripts[0]!.reasons.length).toBeGreaterThan(0);
    const privateDeploy = scripts.find((s) => s.key === 'private-deploy')!;
    expect(privateDeploy.reasons.map((r) => r.text)).toContain('客户提到：私有化');
    const greet = scripts.find((s) => s.key === 'greet-expo')!;
    expect(greet.text).toContain('陈静您好');
    expect(greet.text).toContain('杭州云帆科技有限公司');

    const usage = { key: 'usage-0123456789', scriptKey: 'greet-expo', action: 'send', externalUserId: chenJing };
    expect((await zhangwei('/api/sidebar/script-usage', { method: 'POST', body: usage })).status).toBe(201);
    const again = await zhangwei('/api/sidebar/script-usage', { method: 'POST', body: usage });
    expect(await again.json()).toEqual({ recorded: false });
    expect(await store.connection.db!.collection('script_usages').countDocuments({ key: usage.key })).toBe(1);
    expect(await harness.contacts.TimelineEvent.countDocuments({ externalUserId: chenJing, kind: 'script_sent' })).toBe(1);
  });

  it('marks a script not ready, naming the variable, for a customer it has no value for', async () => {
    const company = (await harness.contacts.Contact.findOne({ externalUserId: chenJing }).lean())!.corpName;
    await harness.contacts.Contact.updateOne({ externalUserId: chenJing }, { $set: { corpName: '' } });
    try {
      const scripts = (await (await (await as('zhangwei'))(`/api/sidebar/customers/${chenJing}/scripts`)).json()) as Array<{ key: string; complete: boolean; missing: string[] }>;
      expect(scripts.find((s) => s.key === 'ask-company-it')).toMatchObject({ complete: false, missing: ['company'] });
      // The demo's own scripts say 贵公司 where the company is unknown.
      expect(scripts.find((s) => s.key === 'greet-expo')).toMatchObject({ complete: true, missing: [] });
      expect(scripts.find((s) => s.key === 'price-overview')).toMatchObject({ complete: true, missing: [] });
    } finally {
      await harness.contacts.Contact.updateOne({ externalUserId: chenJing }, { $set: { corpName: company } });
    }
  });

  it('signs the JS-SDK config with both tickets', async () => {
    const res = await (await as('zhangwei'))(`/api/sidebar/jssdk-config?url=${encodeURIComponent('http://localhost/sidebar/?x=1#a')}`);
    const config = (await res.json()) as Record<string, unknown>;
    expect(config).toMatchObject({ corpId: sim.corp.corpId, agentId: String(sim.corp.agentId) });
    expect(config.signature).toMatch(/^[0-9a-f]{40}$/);
    expect(config.agentSignature).toMatch(/^[0-9a-f]{40}$/);
    expect(config.signature).not.toBe(config.agentSignature);
  });
});

describe('sidebar API in a group chat', () => {
  it("shows the group's profile to a rep in it, and 403 to others", async () => {
    const group = (await harness.contacts.CustomerGroup.findOne({ owner: 'zhangwei' }).lean())!;
    const res = await (await as('lina'))(`/api/sidebar/groups/${group.chatId}`);
    const body = (await res.json()) as Record<string, any>; // JSON shape checked below
    expect(body).toMatchObject({ name: group.name, owner: { userId: 'zhangwei', name: '张伟' }, memberCount: group.memberCount });
    expect(body.members.some((m: { name: string }) => m.name === '陈静')).toBe(true);
    expect(body.sopPlans.map((p: { templateId: string }) => p.templateId)).toEqual([]);
    expect((await (await as('liuyang'))(`/api/sidebar/groups/${group.chatId}`)).status).toBe(403);
  });

  it('suggests scripts for the group, those written for one customer last', async () => {
    const group = (await harness.contacts.CustomerGroup.findOne({ owner: 'zhangwei' }).lean())!;
    const scripts = (await (await (await as('zhangwei'))(`/api/sidebar/groups/${group.chatId}/scripts`)).json()) as Array<{ text: string; complete: boolean }>;
    const completes = scripts.map((s) => s.complete);
    expect(completes[0]).toBe(true);
    expect(completes).toEqual([...completes].sort((a, b) => Number(b) - Number(a)));
    expect(scripts.every((s) => !s.text.includes('{{'))).toBe(true);
  });
});

describe('客户已回复 from the sidebar', () => {
  const DAY = 86_400_000;
  it('records the reply on the timeline with the rep, once per tap, and the 7-day nurture takes the replied branch', async () => {
    const plan = await planFromYaml(harness.sop, readFileSync(new URL('../../sop-templates/nurture-7d.yaml', import.meta.url), 'utf8'));
    const linTao = (await harness.contacts.Contact.findOne({ name: '林涛' }).lean())!.externalUserId;
    const tagId = (await harness.contacts.Tag.findOne({ name: 'B类-跟进中' }).lean())!.tagId;
    await harness.sop.engine.onContactTagged({ externalUserId: linTao, userId: 'zhangwei', tagIds: [tagId], at: clock.now() });
    clock.advance(DAY);
    await harness.sop.engine.worker.drain();

    // A WeCom-only customer: the bot never hears them, the rep taps 客户已回复 (twice: one reply).
    const zhangwei = await as('zhangwei');
    for (let i = 0; i < 2; i++) {
      const res = await zhangwei(`/api/sidebar/customers/${linTao}/replied`, { method: 'POST', body: { key: 'tap-000001' } });
      expect(res.status).toBe(201);
    }
    expect((await (await as('wangfang'))(`/api/sidebar/customers/${linTao}/replied`, { method: 'POST', body: { key: 'tap-000002' } })).status).toBe(403);
    expect((await zhangwei(`/api/sidebar/customers/${linTao}/replied`, { method: 'POST', body: {} })).status).toBe(400);
    const marks = await harness.contacts.TimelineEvent.find({ externalUserId: linTao, kind: 'replied' }).lean();
    expect(marks).toEqual([expect.objectContaining({ userId: 'zhangwei', data: { source: 'sidebar_mark' } })]);

    clock.advance(2 * DAY);
    await harness.sop.engine.worker.drain();
    const steps = (await harness.sop.models.Job.find({ planId: plan._id, targetId: linTao }).sort({ dueAt: 1 }).lean()).map((j) => j.stepId);
    expect(steps).toContain('d3-case');
    expect(steps).not.toContain('d3-nudge');
  });
});

