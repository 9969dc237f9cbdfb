import { EventEmitter } from 'node:events';
import type { Connection } from 'mongoose';
import qrcodeTerminal from 'qrcode-terminal';
import type * as PUPPET from 'wechaty-puppet';
import { WechatyBuilder, types, type Contact, type Message, type Room, type Wechaty } from 'wechaty';
import { botRoomOf, type ContactModels, type ContactPool } from '../contacts/index.ts';
import type { Logger } from '../observability/index.ts';
import type { ScriptLibrary } from '../script-library/index.ts';
import { UnreachableTarget, renderContent, type BotChannel } from '../sop/index.ts';
import type { RepTaskModel } from '../tasks/index.ts';
import { HandoffDesk, registerHandoffModel } from './handoffs.ts';
import { Outbox, registerOutboxModel, type OutboxEntry } from './outbox.ts';
import { Pacer, systemClock, type Clock, type Lane, type PacingRules } from './pacer.ts';
import { decideReply, HANDOFF_NOTICE, joinNames, ROOM_WELCOME, tagsFor, type FaqEntry, type TagRule } from './replies.ts';
import { BotStatus, ThrottledLog } from './status.ts';

/** A Wechaty puppet instance (wechat4u, the mock, any other); they share one API. */
export type Puppet = PUPPET.impls.PuppetInterface;

export interface BotDeps {
  puppet: Puppet;
  /** For the status page and /healthz: which puppet package this is. */
  puppetName: string;
  /** Absolute path (no extension) of the Wechaty memory card that keeps the login session; omit for none (tests). */
  sessionFile?: string;
  connection: Connection;
  pool: ContactPool;
  contacts: ContactModels;
  scripts: ScriptLibrary;
  tasks: RepTaskModel;
  logger: Logger;
  pacing: PacingRules;
  loginTimeoutMs: number;
  tagRules: TagRule[];
  /** Room names whose new members get a welcome; empty = every room. */
  managedRooms: string[];
  /** Print the login QR code in the terminal (not for the mock, not in tests). */
  printQr?: boolean;
  clock?: Clock;
  random?: () => number;
}

/** What the bot made of one incoming message or room join (the playground and tests wait for it). */
export interface Handled {
  talkerId: string;
  outcome: 'answered' | 'handed_off' | 'ignored' | 'paused' | 'not_mentioned' | 'welcomed';
}

/** Something the bot sent, as it left (time on the pacer's clock). */
export interface SentMessage {
  chat: { kind: 'contact' | 'room'; id: string };
  text: string;
  at: number;
}

export type BotEvents = { sent: [SentMessage]; handled: [Handled] };

export interface Bot {
  status: BotStatus;
  /** For the SOP engine: pushes to contacts and rooms, paced. */
  channel: BotChannel;
  handoffs: HandoffDesk;
  /** `sent` for every message that went out; `handled` once a message or join is dealt with (replies already sent). */
  events: EventEmitter<BotEvents>;
  wechaty: Wechaty;
  pacer: Pacer;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The pool contact behind a bot contact, with what replies need. */
interface Known {
  externalUserId: string;
  name: string;
  company: string;
  /** The rep who follows this person in WeCom (linked contacts only). */
  userId: string | null;
}

const FAQ_TTL_MS = 30_000;
const SYNC_MAX = 5_000;

/** What the bot learned about a contact or room, kept a while so a chatty one does not cost a write per message. */
class Recent<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(private readonly now: () => number, private readonly ttlMs = 10 * 60_000, private readonly max = 10_000) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    return entry && entry.until > this.now() ? entry.value : undefined;
  }

  set(key: string, value: T): T {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: this.now() + this.ttlMs });
    return value;
  }
}

/**
 * Wires Wechaty's events to the reply logic (replies.ts), the contact pool, hand-offs and the pacer.
 * Failures stay inside: a message that cannot be handled is logged, the bot and the server go on.
 */
export function createBot(deps: BotDeps): Bot {
  const log = deps.logger.child({ module: 'bot' });
  const errors = new ThrottledLog(log);
  const clock = deps.clock ?? systemClock;
  const wechaty = WechatyBuilder.build({ puppet: deps.puppet, ...(deps.sessionFile ? { name: deps.sessionFile } : {}) });
  const status = new BotStatus({ enabled: true, puppet: deps.puppetName, loginTimeoutMs: deps.loginTimeoutMs, now: () => clock.now() });
  const pacer = new Pacer(deps.pacing, clock, deps.random);
  const handoffs = new HandoffDesk(registerHandoffModel(deps.connection), deps.tasks);
  const outbox = new Outbox(registerOutboxModel(deps.connection));
  const events = new EventEmitter<BotEvents>();
  const known = new Recent<Known>(() => clock.now());
  const rooms = new Recent<string>(() => clock.now());
  let faq: { entries: FaqEntry[]; until: number } | null = null;

  const now = () => new Date(clock.now());

  const faqEntries = async (): Promise<FaqEntry[]> => {
    if (!faq || faq.until < clock.now()) faq = { entries: await deps.scripts.faqEntries(), until: clock.now() + FAQ_TTL_MS };
    return faq.entries;
  };

  /** Records the contact in the pool (linked to its WeCom self when unionid or phone says who it is). */
  const remember = async (contact: Contact): Promise<Known> => {
    const cached = known.get(contact.id);
    if (cached) return cached;
    const payload = contact.payload;
    const recorded = await deps.pool.recordBotContact(
      {
        botContactId: contact.id,
        name: contact.name(),
        avatar: payload?.avatar ?? '',
        gender: contact.gender() as 0 | 1 | 2,
        // Not in Wechaty's payload schema; puppets that know it (pad/protocol ones) pass it along.
        unionId: (payload as { unionId?: string } | undefined)?.unionId ?? null,
        phones: payload?.phone ?? [],
      },
      now(),
    );
    let company = '';
    let userId: string | null = null;
    if (recorded.linked) {
      const [person, relation] = await Promise.all([
        deps.contacts.Contact.findOne({ externalUserId: recorded.externalUserId }, { corpName: 1 }).lean(),
        deps.contacts.FollowRelation.findOne({ externalUserId: recorded.externalUserId, status: 'active' }, { userId: 1 }).lean(),
      ]);
      company = person?.corpName ?? '';
      userId = relation?.userId ?? null;
    }
    return known.set(contact.id, { externalUserId: recorded.externalUserId, name: contact.name(), company, userId });
  };

  /** Records the room (topic, members) at most once per TTL: busy rooms talk far more often than they change. */
  const rememberRoom = async (room: Room, changed = false): Promise<string> => {
    const cached = rooms.get(room.id);
    if (cached && !changed) return cached;
    const members = await room.memberAll();
    const chatId = await deps.pool.recordBotRoom({ roomId: room.id, topic: await room.topic(), ownerId: room.owner()?.id ?? '', memberIds: members.map((m) => m.id) }, now());
    return rooms.set(room.id, chatId);
  };

  /** Sends through the pacer; a message to a person (1:1, or answering them in a room) also lands on their timeline as message_out. */
  const send = (
    chat: SentMessage['chat'],
    lane: Lane,
    text: string,
    say: () => Promise<unknown>,
    timeline: { externalUserId: string; chatId: string | null; key: string } | null,
  ) =>
    pacer.enqueue({
      chat,
      lane,
      send: async () => {
        await say();
        const at = clock.now();
        events.emit('sent', { chat, text, at });
        if (timeline) {
          await deps.pool.addTimeline({
            externalUserId: timeline.externalUserId,
            at: new Date(at),
            kind: 'message_out',
            key: timeline.key,
            data: { text, via: 'bot', ...(timeline.chatId ? { chatId: timeline.chatId } : {}) },
          });
        }
      },
    });

  const onMessage = async (msg: Message) => {
    if (msg.self()) return; // the account's own messages (and the mock's echo of our replies)
    const talker = msg.talker();
    const room = msg.room();
    const text = msg.type() === types.Message.Text ? msg.text() : '';
    // When the bot got it, on the bot's clock (the one replies are stamped with): the phone's own clock may be off.
    const at = now();
    const person = await remember(talker);
    const chatId = room ? await rememberRoom(room) : null;
    await deps.pool.addTimeline({
      externalUserId: person.externalUserId,
      at,
      kind: 'message_in',
      key: `bot:in:${msg.id}`,
      data: { text, via: 'bot', ...(chatId ? { chatId } : {}) },
    });
    const tags = tagsFor(text, deps.tagRules);
    if (tags.length > 0) await deps.pool.addBotTags({ externalUserId: person.externalUserId, tags, at, key: `bot:tag:${msg.id}` });

    const handled = (outcome: Handled['outcome']) => void events.emit('handled', { talkerId: talker.id, outcome });
    if (!text) return handled('ignored');
    if (room && !(await msg.mentionSelf())) return handled('not_mentioned');
    if (await handoffs.isPaused(talker.id)) return handled('paused');
    const chat = room ? { kind: 'room' as const, id: room.id } : { kind: 'contact' as const, id: talker.id };
    const say = (words: string) => () => (room ? room.say(words, talker) : talker.say(words));

    let decision = decideReply(text, await faqEntries());
    const answer = decision.kind === 'answer' ? renderContent(decision.entry.content, { name: person.name, rep: wechaty.currentUser.name(), company: person.company }) : null;
    // An answer that would go out with a gap (a variable with neither value nor default) is a rep's to give.
    if (answer?.missing.length) decision = { kind: 'handoff', reason: 'unanswered' };
    if (decision.kind === 'answer' && answer) {
      const words = answer.text;
      await send(chat, 'reply', words, say(words), { externalUserId: person.externalUserId, chatId, key: `bot:reply:${msg.id}` });
      await deps.scripts.recordUsage({
        key: `bot:${msg.id}`.slice(0, 64),
        scriptKey: decision.entry.key,
        action: 'bot_reply',
        externalUserId: person.externalUserId,
        chatId,
      });
      handled('answered');
    } else if (decision.kind === 'handoff') {
      const handed = await handoffs.handOff({
        contactId: talker.id,
        externalUserId: person.externalUserId,
        name: person.name,
        reason: decision.reason,
        text,
        userId: person.userId,
        at: now(),
      });
      if (handed) await send(chat, 'reply', HANDOFF_NOTICE, say(HANDOFF_NOTICE), { externalUserId: person.externalUserId, chatId, key: `bot:reply:${msg.id}` });
      handled(handed ? 'handed_off' : 'paused');
    } else {
      handled('ignored');
    }
  };

  const onRoomJoin = async (room: Room, invitees: Contact[]) => {
    const at = now();
    const chatId = await rememberRoom(room, true);
    for (const invitee of invitees) {
      const person = await remember(invitee);
      await deps.pool.addTimeline({ externalUserId: person.externalUserId, at, kind: 'joined_group', key: `bot:join:${room.id}:${invitee.id}:${at.getTime()}`, data: { chatId } });
    }
    const topic = await room.topic();
    if (deps.managedRooms.length > 0 && !deps.managedRooms.includes(topic)) return;
    const words = renderContent(ROOM_WELCOME, { name: joinNames(invitees.map((c) => c.name())), group: topic }).text;
    await send({ kind: 'room', id: room.id }, 'reply', words, () => room.say(words), null);
    for (const invitee of invitees) events.emit('handled', { talkerId: invitee.id, outcome: 'welcomed' });
  };

  /**
   * Every friend and room of the account into the pool, in the background: at login, and again at
   * `ready` (wechat4u loads contacts after login). Idempotent; one run at a time.
   */
  let syncing: Promise<void> | null = null;
  const syncAll = () =>
    (syncing ??= (async () => {
      const contacts = (await wechaty.Contact.findAll()).filter((c) => c.friend() && c.type() === types.Contact.Individual && !c.self());
      for (const contact of contacts.slice(0, SYNC_MAX)) await remember(contact);
      for (const room of (await wechaty.Room.findAll()).slice(0, SYNC_MAX)) await rememberRoom(room, true);
    })().finally(() => (syncing = null)));

  const guarded =
    <A extends unknown[]>(what: string, handler: (...args: A) => Promise<void>) =>
    (...args: A) => {
      handler(...args).catch((err: unknown) => errors.error(`bot: ${what} failed`, { err }));
    };

  wechaty.on('scan', (qrcode: string, scanStatus: types.ScanStatus) => {
    if (scanStatus !== types.ScanStatus.Waiting && scanStatus !== types.ScanStatus.Timeout) return;
    status.scanned(qrcode).catch((err: unknown) => errors.error('bot: QR code image failed', { err }));
    log.info({ qrcodeUrl: qrcode }, 'bot waiting for a QR scan (also shown in the console, 机器人)');
    if (deps.printQr) qrcodeTerminal.generate(qrcode, { small: true }, (art) => process.stdout.write(`\nScan with WeChat to log the bot in:\n${art}\n`));
  });
  wechaty.on('login', (user: Contact) => {
    status.loggedIn({ id: user.id, name: user.name() });
    log.info({ user: user.name() }, 'bot logged in');
    guarded('contact sync', syncAll)();
  });
  wechaty.on('ready', guarded('contact sync', syncAll));
  wechaty.on('logout', (user: Contact) => {
    status.loggedOut();
    log.warn({ user: user.name() }, 'bot logged out: scan the new QR code to log in again');
  });
  wechaty.on('error', (err: Error) => {
    status.failed(err.message, false);
    errors.warn(`bot: puppet error: ${err.message}`, {});
  });
  wechaty.on('message', guarded('message', onMessage));
  wechaty.on('room-join', guarded('room join', onRoomJoin));

  /** Pushes in the pacer right now, by outbox key: a push is queued in memory at most once. */
  const pacing = new Set<string>();
  let stopping = false;
  const pace = (item: OutboxEntry, say: () => Promise<unknown>) => {
    if (pacing.has(item.key)) return;
    pacing.add(item.key);
    const timeline = item.externalUserId ? { externalUserId: item.externalUserId, chatId: null, key: `bot:push:${item.key}` } : null;
    send({ kind: item.chatKind, id: item.chatId }, 'push', item.text, say, timeline)
      .then(() => outbox.sent(item.key, now()))
      .catch(async (err: unknown) => {
        // Stopping leaves the push queued in the store: the next start sends it.
        if (stopping) return;
        errors.error('bot: push failed', { err, key: item.key });
        await outbox.failed(item.key, err instanceof Error ? err.message : String(err));
      })
      .catch((err: unknown) => errors.error('bot: outbox update failed', { err, key: item.key }))
      .finally(() => pacing.delete(item.key));
  };
  /** Pushes stored before a restart (or a logout) go out again, in the order they came. */
  const resumeOutbox = async () => {
    for (const item of await outbox.waiting()) {
      const target = item.chatKind === 'room' ? await wechaty.Room.find({ id: item.chatId }) : await wechaty.Contact.find({ id: item.chatId });
      if (!target) {
        await outbox.failed(item.key, `${item.chatKind} ${item.chatId} is not in this account`);
        continue;
      }
      pace({ key: item.key, chatKind: item.chatKind, chatId: item.chatId, externalUserId: item.externalUserId ?? null, text: item.text }, () => target.say(item.text));
    }
  };
  wechaty.on('login', guarded('outbox', resumeOutbox));

  const channel: BotChannel = {
    available: () => status.current === 'logged_in',
    elsewhere: () => status.current === 'standby',
    // Done once durably queued: pacing may hold a push for hours, longer than an SOP job's lease.
    async sendToContact(externalUserId, text, key) {
      const person = await deps.contacts.Contact.findOne({ externalUserId }, { botContactId: 1 }).lean();
      if (!person?.botContactId) throw new UnreachableTarget(`contact ${externalUserId} is not reachable through the bot (no personal-WeChat contact linked)`);
      const contact = await wechaty.Contact.find({ id: person.botContactId });
      if (!contact) throw new UnreachableTarget(`bot contact ${person.botContactId} is not in this account`);
      const item: OutboxEntry = { key, chatKind: 'contact', chatId: contact.id, externalUserId, text };
      if (await outbox.add(item)) pace(item, () => contact.say(text));
    },
    async sendToRoom(chatId, text, key) {
      const group = await deps.contacts.CustomerGroup.findOne({ chatId }, { botRoomId: 1, name: 1 }).lean();
      // `bot:<room id>` names the room itself; a WeCom group the bot has not seen yet is the room of the same name.
      const roomId = group?.botRoomId ?? botRoomOf(chatId);
      const room = roomId ? await wechaty.Room.find({ id: roomId }) : group?.name ? await wechaty.Room.find({ topic: group.name }) : undefined;
      if (!room) throw new UnreachableTarget(`group ${chatId} has no room the bot is in`);
      if (!group?.botRoomId) await rememberRoom(room, true);
      const item: OutboxEntry = { key, chatKind: 'room', chatId: room.id, externalUserId: null, text };
      if (await outbox.add(item)) pace(item, () => room.say(text));
    },
  };

  return {
    status,
    channel,
    handoffs,
    events,
    wechaty,
    pacer,
    async start() {
      try {
        await wechaty.start();
      } catch (err) {
        status.failed(err instanceof Error ? err.message : String(err), true);
        log.error({ err }, 'bot could not start; the server goes on without it');
      }
    },
    async stop() {
      stopping = true;
      await pacer.stop();
      await wechaty.stop();
    },
  };
}
