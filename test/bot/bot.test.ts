import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import { botAdminModule, type Bot, type Handled, type SentMessage } from '../../server/src/bot/index.ts';
import { startMockBot } from './mock-bot.ts';
import { ContactPool, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { ScriptLibrary, registerScriptModels } from '../../server/src/script-library/index.ts';
import { registerRepTasks, type RepTaskModel } from '../../server/src/tasks/index.ts';
import { openTestStore } from '../support/db.ts';
import { eventually } from '../support/eventually.ts';
import { serveModules } from '../support/http.ts';
import { ManualClock } from './clock.ts';
import { MORNING } from './pacing.ts';

const TOKEN = 'bot-admin-token-0123456';

let store: Awaited<ReturnType<typeof openTestStore>>;
let contacts: ContactModels;
let pool: ContactPool;
let scripts: ScriptLibrary;
let tasks: RepTaskModel;

beforeAll(async () => {
  store = await openTestStore();
  contacts = registerContactModels(store.connection);
  await Promise.all(Object.values(contacts).map((m) => m.init()));
  pool = new ContactPool(contacts);
  scripts = new ScriptLibrary(registerScriptModels(store.connection));
  await scripts.init();
  tasks = registerRepTasks(store.connection);
  await tasks.init();
  await scripts.put('price', { category: '产品报价', title: '价格', content: '{{name}}您好，专业版 3,980 元/年。我是{{rep}}。', keywords: ['价格', '多少钱'], faq: true });
  await scripts.put('greet', { category: '开场', title: '问候', content: '您好', keywords: ['价格'], faq: false });
  await scripts.put('invoice', { category: '售后', title: '发票', content: '{{company}}的发票抬头已登记。', keywords: ['发票抬头'], faq: true });
});
afterAll(async () => {
  await store.dispose();
});

/** One bot on a fresh Mocker, logged in; the clock advances by itself unless `manualClock`. */
async function startWorld(options: { manualClock?: boolean; start?: number; beforeLogin?: (mocker: InstanceType<typeof mock.Mocker>, user: ReturnType<InstanceType<typeof mock.Mocker>['createContact']>) => void } = {}) {
  const mocker = new mock.Mocker();
  const user = mocker.createContact({ name: '小微' });
  const clock = new ManualClock(options.start ?? MORNING);
  const stopAdvancing = options.manualClock ? () => undefined : clock.autoAdvance();
  const sent: SentMessage[] = [];
  const bot = await startMockBot({
    puppet: new PuppetMock({ mocker }),
    connection: store.connection,
    pool,
    contacts,
    scripts,
    tasks,
    loginTimeoutMs: 300_000,
    tagRules: [{ tag: 'A类-高意向', keywords: ['多少钱'] }],
    clock,
    random: () => 0.5,
    login: (started) => {
      // Pushes still waiting in the outbox go out at login: listen before it.
      started.events.on('sent', (message) => sent.push(message));
      options.beforeLogin?.(mocker, user);
      mocker.login(user);
    },
  });
  /** Resolves once `n` messages have gone out in this world. */
  const untilSent = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (sent.length < n) return;
        bot.events.off('sent', check);
        resolve();
      };
      bot.events.on('sent', check);
      check();
    });
  const world = {
    mocker,
    user,
    bot,
    clock,
    sent,
    untilSent,
    async stop() {
      stopAdvancing();
      await bot.stop();
    },
  };
  running.push(world);
  return world;
}
const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const world of running.splice(0)) await world.stop();
});

/** The bot's verdict on the next thing `talkerId` does (its replies are sent by then). */
const handled = (bot: Bot, talkerId: string) =>
  new Promise<Handled['outcome']>((resolve) => {
    const listener = (h: Handled) => {
      if (h.talkerId !== talkerId) return;
      bot.events.off('handled', listener);
      resolve(h.outcome);
    };
    bot.events.on('handled', listener);
  });

const timeline = (externalUserId: string) => contacts.TimelineEvent.find({ externalUserId }).sort({ at: 1, _id: 1 }).lean();

describe('the customer bot through wechaty-puppet-mock', () => {
  it('answers an FAQ question 1:1 with the script filled in, and records both messages and the script use', async () => {
    const { mocker, user, bot, sent } = await startWorld();
    const customer = mocker.createContact({ name: '王女士' });
    const outcome = handled(bot, customer.id);
    customer.say('请问专业版价格？').to(user);
    expect(await outcome).toBe('answered');
    expect(sent).toEqual([{ chat: { kind: 'contact', id: customer.id }, text: '王女士您好，专业版 3,980 元/年。我是小微。', at: MORNING }]);

    const events = await timeline(`bot:${customer.id}`);
    expect(events.map((e) => [e.kind, (e.data as { text: string }).text])).toEqual([
      ['message_in', '请问专业版价格？'],
      ['message_out', '王女士您好，专业版 3,980 元/年。我是小微。'],
    ]);
    const usage = await scripts.usageCounts({ from: new Date(0), to: new Date(Date.now() + 60_000) });
    expect(usage).toContainEqual({ scriptKey: 'price', action: 'bot_reply', count: 1 });
  });

  it('hands an FAQ answer whose variable has no value for this customer to a rep instead of sending it broken', async () => {
    const { mocker, user, bot, sent } = await startWorld();
    const customer = mocker.createContact({ name: '吴先生' });
    const outcome = handled(bot, customer.id);
    customer.say('发票抬头怎么填？').to(user);
    expect(await outcome).toBe('handed_off');
    expect(sent.map((m) => m.text)).toEqual(['好的，已为您转接人工客服，请稍候，同事会尽快回复您～']);
    expect(sent.some((m) => m.text.includes('的发票抬头已登记'))).toBe(false);
    expect(await bot.handoffs.active()).toMatchObject([{ contactId: customer.id, reason: 'unanswered' }]);
    await bot.handoffs.resume(customer.id, new Date()); // the other tests count their own handoffs
  });

  it('in a room answers only when mentioned, and records the room in the pool', async () => {
    const { mocker, user, bot, sent } = await startWorld();
    const customer = mocker.createContact({ name: '赵先生' });
    const room = mocker.createRoom({ topic: '客户交流群', memberIdList: [user.id, customer.id] });

    let outcome = handled(bot, customer.id);
    customer.say('价格怎么样').to(room);
    expect(await outcome).toBe('not_mentioned');
    expect(sent).toEqual([]);

    outcome = handled(bot, customer.id);
    customer.say('@小微 价格怎么样', [user]).to(room);
    expect(await outcome).toBe('answered');
    expect(sent).toMatchObject([{ chat: { kind: 'room', id: room.id }, text: '赵先生您好，专业版 3,980 元/年。我是小微。' }]);

    const group = await contacts.CustomerGroup.findOne({ chatId: `bot:${room.id}` }).lean();
    expect(group).toMatchObject({ name: '客户交流群', origin: 'bot', memberCount: 2 });
    const inbound = (await timeline(`bot:${customer.id}`)).filter((e) => e.kind === 'message_in');
    expect(inbound.map((e) => e.data)).toEqual([
      { text: '价格怎么样', via: 'bot', chatId: `bot:${room.id}` },
      { text: '@小微 价格怎么样', via: 'bot', chatId: `bot:${room.id}` },
    ]);
  });

  it('welcomes a member who joins a room', async () => {
    const { mocker, user, bot, sent } = await startWorld();
    const host = mocker.createContact({ name: '群主' });
    const room = mocker.createRoom({ topic: '新品体验群', memberIdList: [user.id, host.id] });
    const guest = mocker.createContact({ name: '孙女士' });
    const outcome = handled(bot, guest.id);
    room.add(guest).by(host);
    expect(await outcome).toBe('welcomed');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ chat: { kind: 'room', id: room.id } });
    expect(sent[0]!.text).toContain('欢迎孙女士加入「新品体验群」');
    expect((await timeline(`bot:${guest.id}`)).map((e) => e.kind)).toEqual(['joined_group']);
  });

  it('hands off to a rep on request: task created, silent until resumed through the admin API', async () => {
    const { mocker, user, bot, sent } = await startWorld();
    const server = await serveModules([botAdminModule({ status: bot.status, handoffs: bot.handoffs, adminGuard: requireAdmin(TOKEN) })]);
    const admin = (path: string, method = 'GET') => fetch(`${server.base}/api/admin/bot${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    try {
      const customer = mocker.createContact({ name: '周先生' });
      let outcome = handled(bot, customer.id);
      customer.say('转人工').to(user);
      expect(await outcome).toBe('handed_off');
      expect(sent.map((m) => m.text)).toEqual(['好的，已为您转接人工客服，请稍候，同事会尽快回复您～']);

      const listed = (await (await admin('/handoffs')).json()) as { handoffs: Array<{ contactId: string; name: string; reason: string; taskKey: string }> };
      expect(listed.handoffs).toHaveLength(1);
      expect(listed.handoffs[0]).toMatchObject({ contactId: customer.id, name: '周先生', reason: 'asked_for_human' });
      const task = await tasks.findOne({ key: listed.handoffs[0]!.taskKey }).lean();
      expect(task).toMatchObject({ externalUserId: `bot:${customer.id}`, status: 'open', source: { bot: true, contactId: customer.id } });

      outcome = handled(bot, customer.id);
      customer.say('价格多少？').to(user);
      expect(await outcome).toBe('paused');
      expect(sent).toHaveLength(1);

      expect((await admin(`/handoffs/${customer.id}/resume`, 'POST')).status).toBe(204);
      expect((await admin(`/handoffs/${customer.id}/resume`, 'POST')).status).toBe(404);
      expect(await (await admin('/handoffs')).json()).toEqual({ handoffs: [] });

      outcome = handled(bot, customer.id);
      customer.say('价格多少？').to(user);
      expect(await outcome).toBe('answered');
      expect(sent).toHaveLength(2);

      // A question the FAQ cannot answer is handed off too, with a new task.
      outcome = handled(bot, customer.id);
      customer.say('能开增值税专票吗？').to(user);
      expect(await outcome).toBe('handed_off');
      const again = (await (await admin('/handoffs')).json()) as { handoffs: Array<{ reason: string; taskKey: string }> };
      expect(again.handoffs).toMatchObject([{ reason: 'unanswered' }]);
      expect(again.handoffs[0]!.taskKey).not.toBe(listed.handoffs[0]!.taskKey);
      expect(await tasks.countDocuments({ 'source.contactId': customer.id })).toBe(2);

      const status = (await (await admin('')).json()) as Record<string, unknown>;
      expect(status).toMatchObject({ enabled: true, puppet: 'wechaty-puppet-mock', state: 'logged_in', user: { name: '小微' }, lastError: null, watchdog: { healthy: true, reason: null } });
      expect((await fetch(`${server.base}/api/admin/bot`)).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('paces a 20-message room push: one room interval plus jitter apart, nothing during quiet hours', async () => {
    const start = Date.parse('2026-11-23T13:50:00Z'); // 21:50 in Shanghai: quiet hours begin ten minutes in
    const { mocker, user, bot, clock, sent, untilSent } = await startWorld({ manualClock: true, start });
    const member = mocker.createContact({ name: '群成员' });
    const room = mocker.createRoom({ topic: '周推送群', memberIdList: [user.id, member.id] });
    for (let i = 1; i <= 20; i++) await bot.channel.sendToRoom(`bot:${room.id}`, `第${i}条推送`, `weekly-${i}`);
    expect(bot.pacer.waiting).toBeGreaterThan(0); // accepted at once, sent over time
    // The first goes at once; each later one when the clock reaches the slot the pacer waits for.
    await untilSent(1);
    for (let n = 2; n <= 20; n++) {
      await clock.advance();
      await untilSent(n);
    }
    expect(sent.map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `第${i + 1}条推送`));
    const times = sent.map((m) => m.at);
    const morning = Date.parse('2026-11-24T00:00:00Z'); // 08:00 in Shanghai
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // 60 s room interval + half the 10 s jitter, except the wait over the night.
    const beforeNight = times.filter((t) => t < morning).length;
    expect(beforeNight).toBe(10); // 21:50:00 … 21:59:45
    expect(gaps.filter((_, i) => i !== beforeNight - 1)).toEqual(Array(18).fill(65_000));
    expect(times[beforeNight]).toBe(morning);
    expect(times.every((t) => t < start + 10 * 60_000 || t >= morning)).toBe(true);
  });

  it('records contacts in the pool, linked to their WeCom contact by unionid or phone, and pushes to them', async () => {
    const at = new Date(MORNING);
    await pool.upsertFromWecom({ externalUserId: 'wmUNION', unionId: 'union-1', name: '陈静', type: 1, follows: [{ userId: 'zhangwei', addedAt: at, tagIds: [] }] }, at);
    await pool.upsertFromWecom(
      { externalUserId: 'wmPHONE', name: '林涛', type: 1, corpName: '海岸咖啡', follows: [{ userId: 'lina', addedAt: at, tagIds: [], remarkMobiles: ['13800000001'] }] },
      at,
    );
    const { mocker, user, bot, sent, untilSent } = await startWorld();
    const byUnion = mocker.createContact({ name: '静静', phone: [], unionId: 'union-1' } as never);
    const byPhone = mocker.createContact({ name: '涛', phone: ['13800000001'] });
    const stranger = mocker.createContact({ name: '路人', phone: [] });
    for (const [contact, text] of [[byUnion, '你好'], [byPhone, '好的'], [stranger, '多少钱']] as const) {
      const outcome = handled(bot, contact.id);
      contact.say(text).to(user);
      await outcome;
    }
    expect(await contacts.Contact.findOne({ externalUserId: 'wmUNION' }).lean()).toMatchObject({ botContactId: byUnion.id, origin: 'wecom' });
    expect(await contacts.Contact.findOne({ externalUserId: 'wmPHONE' }).lean()).toMatchObject({ botContactId: byPhone.id });
    expect((await timeline('wmPHONE')).map((e) => e.kind)).toContain('message_in');
    expect(await contacts.Contact.findOne({ botContactId: stranger.id }).lean()).toMatchObject({
      externalUserId: `bot:${stranger.id}`,
      origin: 'bot',
      name: '路人',
      botTags: ['A类-高意向'],
    });
    expect((await timeline(`bot:${stranger.id}`)).map((e) => e.kind)).toContain('bot_tagged');

    // An SOP bot step for the WeCom contact reaches their personal WeChat.
    sent.length = 0;
    await bot.channel.sendToContact('wmUNION', '陈静您好，本周直播提醒', 'live-reminder');
    await untilSent(1);
    expect(sent).toMatchObject([{ chat: { kind: 'contact', id: byUnion.id }, text: '陈静您好，本周直播提醒' }]);
    await expect(bot.channel.sendToContact('wmNOBOT-unknown', 'x', 'nobody')).rejects.toThrow(/not reachable through the bot/);
  });

  it('keeps paced pushes in the store: a restart sends what was still waiting, a retried job queues nothing new', async () => {
    const roomWith = (mocker: InstanceType<typeof mock.Mocker>, userId: string) => {
      const member = mocker.createContact({ name: '老客户' });
      // Room ids end in @chatroom: the mock tells rooms from contacts by it.
      mocker.createRoom({ id: 'outbox@chatroom', topic: '老客户福利群', memberIdList: [userId, member.id] });
    };
    const first = await startWorld({ manualClock: true, beforeLogin: (mocker, user) => roomWith(mocker, user.id) });
    for (let i = 1; i <= 3; i++) await first.bot.channel.sendToRoom('bot:outbox@chatroom', `福利第${i}弹`, `outbox-${i}`);
    await first.untilSent(1);
    // The server stops while two pushes wait for their slot.
    running.splice(running.indexOf(first), 1);
    await first.stop();
    const outbox = store.connection.collection('bot_outbox');
    expect(await outbox.countDocuments({ key: /^outbox-/, status: 'queued' })).toBe(2);

    const second = await startWorld({ manualClock: true, beforeLogin: (mocker, user) => roomWith(mocker, user.id) });
    // The SOP job for the first push is retried after the restart: already in the outbox, nothing new.
    await second.bot.channel.sendToRoom('bot:outbox@chatroom', '福利第1弹', 'outbox-1');
    await second.untilSent(1);
    await second.clock.advance();
    await second.untilSent(2);
    expect(second.sent.map((m) => m.text)).toEqual(['福利第2弹', '福利第3弹']);
    const mine = { key: /^outbox-/ };
    await eventually(async () => ((await outbox.countDocuments({ ...mine, status: 'sent' })) === 3 ? true : null), 'the three pushes recorded as sent');
    expect(await outbox.countDocuments(mine)).toBe(3);
  });
});
