import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import type { Bot, SentMessage } from '../../server/src/bot/index.ts';
import { ContactPool, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createLogger, createMetrics } from '../../server/src/observability/index.ts';
import { ScriptLibrary, registerScriptModels } from '../../server/src/script-library/index.ts';
import { createSop, parseTemplate, type Sop } from '../../server/src/sop/index.ts';
import { registerRepTasks } from '../../server/src/tasks/index.ts';
import { createWecomClient, syncFromWecom } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { eventually } from '../support/eventually.ts';
import { ManualClock } from './clock.ts';
import { startMockBot } from './mock-bot.ts';
import { MORNING, PACING } from './pacing.ts';

const GROUP = '云帆客户企业版交流群'; // a demo WeCom customer group

let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let contacts: ContactModels;
let sop: Sop;
let bot: Bot;
let mocker: InstanceType<typeof mock.Mocker>;
let stopAdvancing: () => void;
const sent: SentMessage[] = [];

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator({ seed: 'demo', now: () => MORNING });
  const logger = createLogger({ level: 'silent' });
  contacts = registerContactModels(store.connection);
  await Promise.all(Object.values(contacts).map((m) => m.init()));
  const pool = new ContactPool(contacts);
  const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger });
  await syncFromWecom(client, pool);
  const scripts = new ScriptLibrary(registerScriptModels(store.connection));
  await scripts.init();
  const tasks = registerRepTasks(store.connection);
  await tasks.init();

  mocker = new mock.Mocker();
  const user = mocker.createContact({ name: '小微' });
  const clock = new ManualClock(MORNING);
  stopAdvancing = clock.autoAdvance();
  bot = await startMockBot({
    puppet: new PuppetMock({ mocker }),
    connection: store.connection,
    pool,
    contacts,
    scripts,
    tasks,
    pacing: { ...PACING, jitterMs: 0 },
    clock,
    login: (started) => {
      started.events.on('sent', (m) => sent.push(m));
      mocker.login(user);
    },
  });
  sop = await createSop({
    connection: store.connection,
    contacts,
    pool,
    tasks,
    client,
    bot: bot.channel,
    logger,
    metrics: createMetrics(),
    templatesDir: 'sop-templates',
    timeZone: 'Asia/Shanghai',
    adminGuard: requireAdmin('sop-admin-token-0123456789'),
    now: () => new Date(MORNING),
  });
});
afterAll(async () => {
  stopAdvancing?.();
  await bot?.stop();
  await sop?.engine.stop();
  await sim?.close();
  await store?.dispose();
});

const planFor = (target: 'group' | 'contact', text: string) => {
  const template = parseTemplate(
    `id: bot-${target}\nname: 机器人推送\ntarget: ${target}\ntrigger: { type: schedule, cron: "0 3 * * *" }\nsteps:\n  - id: push\n    type: bot_send\n    content: { text: "${text}" }\n`,
    `bot-${target}.yaml`,
  );
  return sop.models.Plan.create({ name: template.name, templateId: template.id, template, timeZone: 'Asia/Shanghai', enabled: true });
};

describe('SOP steps delivered through the bot', () => {
  it('pushes a bot_send group step into the room of the WeCom group the bot account is in (linked by name)', async () => {
    const wecomGroup = (await contacts.CustomerGroup.findOne({ name: GROUP }).lean())!;
    const customer = mocker.createContact({ name: '陈静' });
    const room = mocker.createRoom({ topic: GROUP, memberIdList: [mocker.ContactMock.load(bot.wechaty.currentUser.id).id, customer.id] });

    const plan = await planFor('group', '【{{group}}】今晚 20:00 直播答疑');
    await sop.engine.enrolMany(plan, [{ target: { kind: 'group', id: wecomGroup.chatId, userId: null }, occurrence: 'test', at: new Date(MORNING) }]);
    await sop.engine.worker.drain();

    await eventually(async () => sent.find((m) => m.chat.id === room.id), 'room push');
    expect(sent.filter((m) => m.chat.id === room.id).map((m) => m.text)).toEqual([`【${GROUP}】今晚 20:00 直播答疑`]);
    expect(await sop.models.Send.findOne({ targetId: wecomGroup.chatId }).lean()).toMatchObject({ channel: 'bot', state: 'sent' });
    // The WeCom group now knows its room; no bot-only copy of it was made.
    expect(await contacts.CustomerGroup.findOne({ chatId: wecomGroup.chatId }).lean()).toMatchObject({ botRoomId: room.id, origin: 'wecom' });
    expect(await contacts.CustomerGroup.countDocuments({ chatId: `bot:${room.id}` })).toBe(0);
  });

  it('pushes a bot_send contact step to the personal WeChat of a linked contact, on their timeline', async () => {
    const wecomContact = (await contacts.Contact.findOne({ name: '孙丽' }).lean())!;
    await contacts.Contact.updateOne({ externalUserId: wecomContact.externalUserId }, { $set: { phone: '13900000002' } });
    const person = mocker.createContact({ name: '丽丽', phone: ['13900000002'] });
    const handled = new Promise((resolve) => bot.events.once('handled', resolve));
    person.say('你好').to(mocker.ContactMock.load(bot.wechaty.currentUser.id));
    await handled;

    const plan = await planFor('contact', '{{name}}您好，续费季专属优惠本周截止');
    await sop.engine.enrolMany(plan, [{ target: { kind: 'contact', id: wecomContact.externalUserId, userId: 'liuyang' }, occurrence: 'test', at: new Date(MORNING) }]);
    await sop.engine.worker.drain();

    const push = await eventually(async () => sent.find((m) => m.chat.id === person.id), 'contact push');
    expect(push.text).toMatch(/^孙丽.*您好，续费季专属优惠本周截止$/);
    const out = await eventually(() => contacts.TimelineEvent.findOne({ externalUserId: wecomContact.externalUserId, kind: 'message_out' }).lean(), 'message_out');
    expect(out.data).toMatchObject({ text: push.text, via: 'bot' });
  });

  it('ends a bot_send step as no_relation, without retries, when the bot cannot reach the target', async () => {
    const unlinked = (await contacts.Contact.findOne({ name: '郑浩' }).lean())!;
    const plan = await planFor('contact', '{{name}}您好');
    await sop.engine.enrolMany(plan, [{ target: { kind: 'contact', id: unlinked.externalUserId, userId: 'liuyang' }, occurrence: 'unreachable', at: new Date(MORNING) }]);
    await sop.engine.worker.drain();
    const job = await sop.models.Job.findOne({ planId: plan._id, targetId: unlinked.externalUserId }).lean();
    expect(job).toMatchObject({ status: 'done', outcome: 'no_relation', attempts: 1 });
  });

  it('does not ask WeCom to mass-send to a room only the bot knows', async () => {
    await contacts.CustomerGroup.create({ chatId: 'bot:room-only', name: '个人号福利群', origin: 'bot', status: 'active' });
    const template = parseTemplate(
      'id: wecom-group\nname: 企微群推送\ntarget: group\ntrigger: { type: schedule, cron: "0 3 * * *" }\nsteps:\n  - id: push\n    type: mass_send\n    content: { text: "本周福利" }\n',
      'wecom-group.yaml',
    );
    const plan = await sop.models.Plan.create({ name: template.name, templateId: template.id, template, timeZone: 'Asia/Shanghai', enabled: true });
    sim.resetCalls();
    await sop.engine.enrolMany(plan, [{ target: { kind: 'group', id: 'bot:room-only', userId: null }, occurrence: 'test', at: new Date(MORNING) }]);
    await sop.engine.worker.drain();
    expect(await sop.models.Job.findOne({ planId: plan._id }).lean()).toMatchObject({ status: 'done', outcome: 'no_relation' });
    expect(sim.calls('/externalcontact/add_msg_template')).toHaveLength(0);
  });
});
