import { z } from 'zod';
import type { HttpModule } from '../http/index.ts';
import type { mock } from 'wechaty-puppet-mock';
import type { Bot, Handled, Puppet, SentMessage } from './bot.ts';

/** The mock side of the demo: a bot account, one customer and one room, with fixed ids so the pool keeps one of each across restarts. */
export interface DemoWorld {
  puppet: Puppet;
  /** The demo customer says `text` to the bot, or in the demo room mentioning it. */
  say(text: string, inRoom: boolean): void;
  /** A new guest joins the demo room (the bot welcomes them); returns the guest's id. */
  join(name: string): string;
  customer: { id: string; name: string };
  room: { id: string; topic: string };
}

const BOT = { id: 'demo-bot', name: '小微（演示客服号）' };
const CUSTOMER = { id: 'demo-customer', name: '体验客户' };
const ROOM = { id: 'demo-room@chatroom', topic: '演示客户群' };

/**
 * The bot's stand-in for WeChat in demo mode: wechaty-puppet-mock with a scripted world. Loaded
 * on demand — the mock is a development dependency, and a production install never needs it.
 */
export async function createDemoWorld(): Promise<DemoWorld> {
  const { PuppetMock, mock: mocks } = await import('wechaty-puppet-mock');
  const mocker = new mocks.Mocker();
  const user = mocker.createContact({ ...BOT, phone: [] });
  mocker.use((m) => {
    // A scan then a login, as on a real account: the console shows both states.
    m.scan('https://login.weixin.qq.com/l/demo-bot', 2);
    m.login(user);
    return () => undefined;
  });
  // The customer and the room walk in with the first playground message, so an untouched demo pool
  // holds only the demo corp.
  let scene: { customer: mock.ContactMock; neighbour: mock.ContactMock; room: mock.RoomMock } | null = null;
  const enter = () => {
    if (!scene) {
      const customer = mocker.createContact({ ...CUSTOMER, phone: [] });
      const neighbour = mocker.createContact({ id: 'demo-member', name: '李先生', phone: [] });
      const room = mocker.createRoom({ ...ROOM, memberIdList: [user.id, customer.id, neighbour.id], ownerId: user.id });
      scene = { customer, neighbour, room };
    }
    return scene;
  };
  let guests = 0;
  return {
    puppet: new PuppetMock({ mocker }),
    customer: CUSTOMER,
    room: ROOM,
    say(text, inRoom) {
      const { customer, room } = enter();
      if (inRoom) customer.say(`@${BOT.name} ${text}`, [user]).to(room);
      else customer.say(text).to(user);
    },
    join(name) {
      const { room, neighbour } = enter();
      const guest = mocker.createContact({ id: `demo-guest-${Date.now()}-${++guests}`, name, phone: [] });
      room.add(guest).by(neighbour);
      return guest.id;
    },
  };
}

const message = z.object({ text: z.string().trim().min(1).max(500), inRoom: z.boolean().default(false) }).strict();
const join = z.object({ name: z.string().trim().min(1).max(20).default('新朋友') }).strict();

/** Lines a newcomer can click: an FAQ answer, a question the FAQ cannot answer, a hand-off. */
const SUGGESTIONS = ['你好，请问专业版多少钱？', '可以私有化部署吗？', '你们支持 Salesforce 集成吗？', '转人工'];

/** How long to wait for the bot to deal with one message (pacing may hold a reply a few seconds). */
const HANDLED_WITHIN_MS = 20_000;

/**
 * `/api/bot-playground/*` (demo mode only): a newcomer chats with the bot in the browser. Each call
 * makes the demo customer act, waits until the bot has dealt with it, and returns what it sent.
 */
export function botPlaygroundModule(deps: { bot: Bot; world: DemoWorld }): HttpModule {
  const { bot, world } = deps;
  let turn: Promise<unknown> = Promise.resolve();

  /** One turn at a time, so replies are not attributed to the wrong message. */
  const act = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = turn.then(fn, fn);
    turn = next.catch(() => undefined);
    return next;
  };

  /** Runs `action` (which returns who acts), waits until the bot has dealt with it, and returns what the bot sent meanwhile. */
  const exchange = (action: () => string) =>
    act(async () => {
      const replies: SentMessage[] = [];
      const collect = (sent: SentMessage) => replies.push(sent);
      bot.events.on('sent', collect);
      try {
        let talkerId = '';
        const outcome = waitForHandled(bot, () => talkerId);
        talkerId = action();
        return { outcome: await outcome, replies: replies.map((r) => ({ text: r.text, at: new Date(r.at).toISOString(), inRoom: r.chat.kind === 'room' })) };
      } finally {
        bot.events.off('sent', collect);
      }
    });

  return {
    name: 'bot-playground',
    mount(router) {
      router.get('/api/bot-playground', async (ctx) => {
        const status = bot.status.view();
        ctx.body = {
          bot: { name: status.user?.name ?? null, state: status.state },
          customer: world.customer,
          room: world.room,
          suggestions: SUGGESTIONS,
          handedOff: await bot.handoffs.isPaused(world.customer.id),
        };
      });
      router.post('/api/bot-playground/messages', async (ctx) => {
        const { text, inRoom } = message.parse(ctx.request.body ?? {});
        if (!bot.channel.available()) ctx.throw(409, 'the demo bot is not logged in yet');
        ctx.body = await exchange(() => {
          world.say(text, inRoom);
          return world.customer.id;
        });
      });
      router.post('/api/bot-playground/join', async (ctx) => {
        const { name } = join.parse(ctx.request.body ?? {});
        ctx.body = await exchange(() => world.join(name));
      });
      router.post('/api/bot-playground/resume', async (ctx) => {
        ctx.body = { resumed: await bot.handoffs.resume(world.customer.id, new Date()) };
      });
    },
  };
}

/** The next `handled` for the talker (read when the event comes: the action names them after this starts listening), or 'timeout'. */
function waitForHandled(bot: Bot, talkerId: () => string): Promise<Handled['outcome'] | 'timeout'> {
  return new Promise((resolve) => {
    const finish = (outcome: Handled['outcome'] | 'timeout') => {
      clearTimeout(timer);
      bot.events.off('handled', listener);
      resolve(outcome);
    };
    const listener = (handled: Handled) => {
      if (handled.talkerId === talkerId()) finish(handled.outcome);
    };
    const timer = setTimeout(() => finish('timeout'), HANDLED_WITHIN_MS);
    bot.events.on('handled', listener);
  });
}
