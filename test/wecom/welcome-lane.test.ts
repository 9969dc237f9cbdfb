import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import mongoose, { type Connection } from 'mongoose';
import { createApp, startHttpServer, type RunningHttpServer } from '../../server/src/http/index.ts';
import { Health, createLogger, createMetrics } from '../../server/src/observability/index.ts';
import { openStore, type Store } from '../../server/src/store/index.ts';
import { createWecomIntegration, type WecomIntegration } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type CallbackEvent, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { eventually } from '../support/eventually.ts';
import { TestClock, buildSop, planFromYaml, type SopHarness } from '../sop/harness.ts';

/** The lane measures WeCom's 20 s against wall time, so the engine runs on the real clock here. */
class WallClock extends TestClock {
  override now = () => new Date();
  override ms = () => Date.now();
}

interface Instance {
  h: SopHarness;
  wecom: WecomIntegration;
  http: RunningHttpServer;
  url: string;
}

const logger = createLogger({ level: 'silent' });
let store: Awaited<ReturnType<typeof openTestStore>>;
let second: Store;
let sim: WecomSimulator;
let a: Instance;
let b: Instance;
let expoTag: string;

/** One server instance: the SOP module and the callback → inbox → events path, as main.ts wires them. */
async function instance(connection: Connection, sync: boolean): Promise<Instance> {
  const h = await buildSop(connection, sim, new WallClock(Date.now()), { sync });
  const metrics = createMetrics();
  const wecom = createWecomIntegration({
    connection,
    secrets: { token: sim.corp.token, encodingAesKey: sim.corp.encodingAesKey, corpId: sim.corp.corpId },
    client: h.client,
    pool: h.pool,
    logger,
    metrics,
    onContactAdded: (event) => h.sop.engine.onContactAdded(event),
    onContactTagged: (event) => h.sop.engine.onContactTagged(event),
    welcomeNow: (event, known) => h.sop.engine.welcomeNow(event, known),
  });
  await wecom.inbox.init();
  const http = await startHttpServer(createApp({ logger, metrics, health: new Health(), bodyLimitKb: 64, modules: [wecom.http] }), { host: '127.0.0.1', port: 0 });
  return { h, wecom, http, url: `http://127.0.0.1:${http.port}/wecom/callback` };
}

const EXPO_WELCOME = `
id: expo-welcome
name: 展会欢迎
trigger: { type: contact_added, channels: [expo] }
steps:
  - id: hello
    type: send_welcome
    content: { text: "{{name}}您好，欢迎来到展会" }
    fallbackText: 您好，欢迎来到展会
`;

beforeAll(async () => {
  store = await openTestStore();
  const { host, port, name } = store.connection;
  second = await openStore({ kind: 'external', uri: `mongodb://${host}:${port}/${name}` }, logger);
  sim = await startWecomSimulator();
  sim.state.addRep({ userid: 'zhangsan', name: '张三' });
  expoTag = sim.state.addTags({ groupName: '来源渠道', tags: [{ name: '展会' }] }).tags[0]!.id;
  a = await instance(store.connection, true);
  b = await instance(second.connection, false);
  await a.h.contacts.Channel.create({ state: 'expo', name: '展会活码', tagIds: [expoTag] });
  await planFromYaml(a.h.sop, EXPO_WELCOME);
});

afterAll(async () => {
  for (const i of [a, b]) {
    await i?.wecom.worker.stop();
    await i?.h.sop.engine.stop();
    await i?.http.close(1_000);
  }
  await second?.close();
  await sim?.close();
  await store?.dispose();
});

beforeEach(async () => {
  sim.resetCalls();
  sim.clearFaults();
  await Promise.all([a.wecom.worker.stop(), b.wecom.worker.stop()]);
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const apis = () => sim.calls().map((c) => c.api);
const welcomes = () => sim.calls('/externalcontact/send_welcome_msg').map((c) => (c.body as { text: { content: string } }).text.content);
const scan = (name: string, options: { state?: string; withWelcomeCode?: boolean } = { state: 'expo' }) =>
  sim.scanChannelQr({ customer: { name }, userid: 'zhangsan', ...options });
async function drained(inst: Instance) {
  // One query: a staged event passes from running to pending and back, which two counts could straddle.
  await eventually(async () => ((await inst.wecom.inbox.countDocuments({ status: mongoose.trusted({ $in: ['pending', 'running'] }) })) === 0 ? true : null), 'inbox drained');
}
const welcomeJob = (externalUserId: string) => a.h.sop.models.Job.findOne({ targetId: externalUserId, stepId: 'hello' }).lean();

describe('the welcome lane', () => {
  it('claims welcome events before older ordinary ones, earliest deadline first', async () => {
    const ordinary = [scan('普通一', { withWelcomeCode: false }), scan('普通二', { withWelcomeCode: false })];
    for (const o of ordinary) await sim.sendCallback(a.url, o.event);
    const later = scan('晚到期');
    const sooner = scan('早到期');
    await sim.sendCallback(a.url, { ...later.event, createTime: nowSeconds() });
    // Arrives last but its window closes first: the callback is 3 s older.
    await sim.sendCallback(a.url, { ...sooner.event, createTime: nowSeconds() - 3 });

    // One by one, as the claim order hands them out.
    await a.wecom.worker.drain();
    const fetched = sim.calls('/externalcontact/get').map((c) => c.query.external_userid);
    expect(fetched).toEqual([sooner, later, ...ordinary].map((s) => s.contact.externalUserid));
    expect(welcomes()).toEqual(['早到期您好，欢迎来到展会', '晚到期您好，欢迎来到展会']);
  });

  it('sends the welcome as soon as the name is known, before the channel tags go to WeCom', async () => {
    a.wecom.worker.start();
    const s = scan('李小姐');
    await sim.sendCallback(a.url, s.event);
    await drained(a);
    const order = apis().filter((api) => ['/externalcontact/get', '/externalcontact/send_welcome_msg', '/externalcontact/mark_tag'].includes(api));
    expect(order).toEqual(['/externalcontact/get', '/externalcontact/send_welcome_msg', '/externalcontact/mark_tag']);
    expect(welcomes()).toEqual(['李小姐您好，欢迎来到展会']);
    // The rest of the event's work followed: relation with its channel tag, timeline, the welcome job recorded.
    const externalUserId = s.contact.externalUserid;
    expect(await a.h.contacts.FollowRelation.findOne({ externalUserId }).lean()).toMatchObject({ status: 'active', state: 'expo', tagIds: [expoTag] });
    expect((await a.h.contacts.TimelineEvent.find({ externalUserId }).lean()).map((e) => e.kind).sort()).toEqual(['added', 'tags_changed']);
    expect(await welcomeJob(externalUserId)).toMatchObject({ status: 'done', outcome: 'sent' });
  });

  it('sends the name-free fallback when externalcontact/get is too slow near the deadline', async () => {
    a.wecom.worker.start();
    sim.inject({ api: '/externalcontact/get', delayMs: 2_500 });
    const s = scan('慢先生');
    // 14 s into the window: with the 5 s margin, at most a second is left to wait for the name.
    await sim.sendCallback(a.url, { ...s.event, createTime: nowSeconds() - 14 });
    await drained(a);
    expect(welcomes()).toEqual(['您好，欢迎来到展会']);
    const order = apis().filter((api) => ['/externalcontact/send_welcome_msg', '/externalcontact/mark_tag'].includes(api));
    expect(order).toEqual(['/externalcontact/send_welcome_msg', '/externalcontact/mark_tag']);
    // The name arrived later and the rest of the work used it.
    expect(await a.h.contacts.Contact.findOne({ externalUserId: s.contact.externalUserid }).lean()).toMatchObject({ name: '慢先生' });
    expect(await a.h.contacts.FollowRelation.findOne({ externalUserId: s.contact.externalUserid }).lean()).toMatchObject({ status: 'active', tagIds: [expoTag] });
  });

  it('records a welcome whose window has passed as expired, without calling send_welcome_msg', async () => {
    a.wecom.worker.start();
    const s = scan('迟到');
    await sim.sendCallback(a.url, { ...s.event, createTime: nowSeconds() - 25 });
    await drained(a);
    await a.h.sop.engine.worker.drain();
    expect(sim.calls('/externalcontact/send_welcome_msg')).toHaveLength(0);
    expect(await welcomeJob(s.contact.externalUserid)).toMatchObject({ status: 'done', outcome: 'code_expired', detail: { windowPassed: true } });
    expect(await a.h.contacts.Contact.findOne({ externalUserId: s.contact.externalUserid }).lean()).toMatchObject({ name: '迟到' });
  });

  it('sends once when the same callback reaches two instances, both working', async () => {
    a.wecom.worker.start();
    b.wecom.worker.start();
    const s = scan('双份');
    const event: CallbackEvent = { ...s.event, createTime: nowSeconds() };
    const answers = await Promise.all([a.url, b.url, a.url, b.url].map((url) => sim.sendCallback(url, event)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await drained(a);
    expect(welcomes()).toEqual(['双份您好，欢迎来到展会']);
  });

  it('sends once when both engines run the lane for one event at the same moment', async () => {
    const s = scan('并发');
    const externalUserId = s.contact.externalUserid;
    await a.h.pool.upsertFromWecom({ externalUserId, name: '并发', type: 1, follows: [{ userId: 'zhangsan', addedAt: new Date(), tagIds: [], state: 'expo' }] }, new Date());
    const event = { externalUserId, userId: 'zhangsan', state: 'expo', welcomeCode: s.welcomeCode!, at: new Date(), welcomeDeadline: new Date(Date.now() + 20_000) };
    const taken = await Promise.all([a, b, a, b].map((i) => i.h.sop.engine.welcomeNow(event, { name: '并发', tagIds: [] })));
    expect(taken).toEqual([true, true, true, true]);
    await Promise.all([a.h.sop.engine.worker.drain(), b.h.sop.engine.worker.drain()]);
    expect(welcomes()).toEqual(['并发您好，欢迎来到展会']);
    expect(await a.h.sop.models.Send.countDocuments({ targetId: externalUserId, channel: 'welcome' })).toBe(1);
  });
});
