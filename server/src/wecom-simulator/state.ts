import { createHash, randomBytes } from 'node:crypto';
import { SimError } from './errors.ts';
import type {
  SimContact,
  SimContactWay,
  SimCorp,
  SimFollow,
  SimGroupChat,
  SimAppMessage,
  SimMassTask,
  SimMedia,
  SimRep,
  SimTag,
  SimTagGroup,
  SimWelcomeCode,
  SimGroupWelcomeTemplate,
} from './model.ts';

const TOKEN_LIFETIME_S = 7200;
const WELCOME_CODE_VALIDITY_MS = 20_000;
const OAUTH_CODE_VALIDITY_MS = 5 * 60_000;
const MEDIA_LIFETIME_S = 3 * 24 * 3600;

export interface NewContact {
  externalUserid?: string;
  name: string;
  type?: 1 | 2;
  gender?: 0 | 1 | 2;
  corpName?: string;
  position?: string;
}

export interface NewFollow {
  userid: string;
  remark?: string;
  description?: string;
  createtime?: number;
  tagIds?: string[];
  state?: string;
  addWay?: number;
  remarkCorpName?: string;
  remarkMobiles?: string[];
}

/**
 * The simulated corp's data and WeCom's rules over it. Handlers and tests go through these
 * methods, so a rule (unknown tag → 40068, single-use welcome codes...) lives in one place.
 */
export class SimState {
  readonly reps = new Map<string, SimRep>();
  readonly contacts = new Map<string, SimContact>();
  readonly tagGroups: SimTagGroup[] = [];
  readonly groupChats = new Map<string, SimGroupChat>();
  readonly contactWays = new Map<string, SimContactWay>();
  readonly massTasks = new Map<string, SimMassTask>();
  readonly groupWelcomeTemplates = new Map<string, SimGroupWelcomeTemplate>();
  private readonly tokens = new Map<string, { expiresAt: number }>();
  private readonly welcomeCodes = new Map<string, SimWelcomeCode>();
  private readonly oauthCodes = new Map<string, { userid: string; expiresAt: number }>();
  private readonly media = new Map<string, SimMedia>();
  private readonly appMessages: SimAppMessage[] = [];
  private seq = 0;

  constructor(
    readonly corp: SimCorp,
    readonly now: () => number,
  ) {}

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Readable, unique, WeCom-looking ids (external_userid starts with wm, chat ids with wr...). */
  newId(prefix: string): string {
    this.seq += 1;
    // Derived from the corp, so a demo corp gets the same ids on every start (a restart must not
    // duplicate the demo pool) while two random corps never share one.
    const digest = createHash('sha256').update(`${this.corp.corpId}:${prefix}:${this.seq}`).digest('base64url');
    return `${prefix}${digest.slice(0, 12)}${this.seq.toString(36).padStart(4, '0')}`;
  }

  // --- access tokens ---------------------------------------------------------------------------

  issueToken(corpId: string, secret: string): { access_token: string; expires_in: number } {
    if (corpId !== this.corp.corpId) throw new SimError(40013);
    if (secret !== this.corp.secret) throw new SimError(40001);
    const token = randomBytes(48).toString('base64url');
    this.tokens.set(token, { expiresAt: this.now() + TOKEN_LIFETIME_S * 1000 });
    return { access_token: token, expires_in: TOKEN_LIFETIME_S };
  }

  checkToken(token: string | undefined): void {
    const known = token === undefined ? undefined : this.tokens.get(token);
    if (!known) throw new SimError(40014);
    if (this.now() >= known.expiresAt) throw new SimError(42001);
  }

  /** Every token issued so far answers 42001 from now on. */
  expireTokens(): void {
    for (const token of this.tokens.values()) token.expiresAt = 0;
  }

  // --- reps and customers ----------------------------------------------------------------------

  addRep(rep: SimRep): SimRep {
    this.reps.set(rep.userid, rep);
    return rep;
  }

  requireRep(userid: string): SimRep {
    const rep = this.reps.get(userid);
    if (!rep) throw new SimError(60111);
    return rep;
  }

  addContact(contact: NewContact, follows: NewFollow[] = []): SimContact {
    const created: SimContact = {
      externalUserid: contact.externalUserid ?? this.newId('wm'),
      name: contact.name,
      type: contact.type ?? 1,
      avatar: simulatedAvatar(contact.name),
      gender: contact.gender ?? 0,
      ...(contact.corpName === undefined ? {} : { corpName: contact.corpName, corpFullName: contact.corpName }),
      ...(contact.position === undefined ? {} : { position: contact.position }),
      follows: [],
    };
    this.contacts.set(created.externalUserid, created);
    for (const follow of follows) this.addFollow(created.externalUserid, follow);
    return created;
  }

  /** The customer adds (another) rep; re-adding replaces that rep's side of the relation. */
  addFollow(externalUserid: string, follow: NewFollow): SimFollow {
    const contact = this.requireContact(externalUserid);
    this.requireRep(follow.userid);
    for (const id of follow.tagIds ?? []) this.requireTag(id);
    const created: SimFollow = {
      userid: follow.userid,
      remark: follow.remark ?? '',
      description: follow.description ?? '',
      createtime: follow.createtime ?? this.nowSeconds(),
      tagIds: [...(follow.tagIds ?? [])],
      ...(follow.state === undefined ? {} : { state: follow.state }),
      addWay: follow.addWay ?? 1,
      ...(follow.remarkCorpName === undefined ? {} : { remarkCorpName: follow.remarkCorpName }),
      remarkMobiles: [...(follow.remarkMobiles ?? [])],
    };
    contact.follows = [...contact.follows.filter((f) => f.userid !== follow.userid), created];
    return created;
  }

  /** The customer deleted the rep (or the rep the customer). */
  removeFollow(externalUserid: string, userid: string): void {
    const contact = this.requireContact(externalUserid);
    contact.follows = contact.follows.filter((f) => f.userid !== userid);
  }

  requireContact(externalUserid: string): SimContact {
    const contact = this.contacts.get(externalUserid);
    if (!contact) throw new SimError(40096);
    return contact;
  }

  requireFollow(externalUserid: string, userid: string): SimFollow {
    const follow = this.requireContact(externalUserid).follows.find((f) => f.userid === userid);
    if (!follow) throw new SimError(84061);
    return follow;
  }

  customersOf(userid: string): SimContact[] {
    return [...this.contacts.values()].filter((c) => c.follows.some((f) => f.userid === userid));
  }

  // --- corp tags -------------------------------------------------------------------------------

  findTag(id: string): { group: SimTagGroup; tag: SimTag } | undefined {
    for (const group of this.tagGroups) {
      const tag = group.tags.find((t) => t.id === id);
      if (tag) return { group, tag };
    }
    return undefined;
  }

  requireTag(id: string): { group: SimTagGroup; tag: SimTag } {
    const found = this.findTag(id);
    if (!found) throw new SimError(40068);
    return found;
  }

  /** Adds tags to the group with that id or name, creating the group if needed (add_corp_tag's rules). */
  addTags(spec: { groupId?: string; groupName?: string; order?: number; tags: Array<{ name: string; order?: number }> }): SimTagGroup {
    let group = spec.groupId
      ? this.tagGroups.find((g) => g.groupId === spec.groupId)
      : this.tagGroups.find((g) => g.groupName === spec.groupName);
    if (spec.groupId && !group) throw new SimError(40068);
    if (!group) {
      if (!spec.groupName) throw new SimError(40058, 'group_name or group_id required');
      group = { groupId: this.newId('et'), groupName: spec.groupName, order: spec.order ?? 0, createTime: this.nowSeconds(), tags: [] };
      this.tagGroups.push(group);
    }
    for (const tag of spec.tags) {
      if (group.tags.some((t) => t.name === tag.name)) throw new SimError(40071);
      group.tags.push({ id: this.newId('et'), name: tag.name, order: tag.order ?? 0, createTime: this.nowSeconds() });
    }
    return group;
  }

  deleteTags(tagIds: string[], groupIds: string[]): void {
    for (const id of tagIds) this.requireTag(id);
    for (const id of groupIds) if (!this.tagGroups.some((g) => g.groupId === id)) throw new SimError(40068);
    const doomed = new Set(tagIds);
    for (const group of this.tagGroups) {
      if (groupIds.includes(group.groupId)) group.tags.forEach((t) => doomed.add(t.id));
      group.tags = group.tags.filter((t) => !doomed.has(t.id));
    }
    // WeCom drops a group once its last tag is gone.
    const emptied = this.tagGroups.filter((g) => g.tags.length === 0);
    for (const group of emptied) this.tagGroups.splice(this.tagGroups.indexOf(group), 1);
    for (const contact of this.contacts.values()) {
      for (const follow of contact.follows) follow.tagIds = follow.tagIds.filter((id) => !doomed.has(id));
    }
  }

  markTags(userid: string, externalUserid: string, add: string[], remove: string[]): void {
    const follow = this.requireFollow(externalUserid, userid);
    for (const id of [...add, ...remove]) this.requireTag(id);
    const tags = new Set(follow.tagIds);
    for (const id of remove) tags.delete(id);
    for (const id of add) tags.add(id);
    follow.tagIds = [...tags];
  }

  // --- welcome codes ---------------------------------------------------------------------------

  issueWelcomeCode(userid: string, externalUserid: string, at = this.now()): string {
    const code = this.newId('WC');
    this.welcomeCodes.set(code, { code, userid, externalUserid, issuedAt: at, used: false, chatStarted: false });
    return code;
  }

  /** The customer wrote before the welcome went out: WeCom then answers 41051. */
  markChatStarted(code: string): void {
    const entry = this.welcomeCodes.get(code);
    if (entry) entry.chatStarted = true;
  }

  useWelcomeCode(code: string): SimWelcomeCode {
    const entry = this.welcomeCodes.get(code);
    if (!entry || entry.used || this.now() - entry.issuedAt > WELCOME_CODE_VALIDITY_MS) throw new SimError(41050);
    if (entry.chatStarted) throw new SimError(41051);
    entry.used = true;
    return entry;
  }

  // --- OAuth (sidebar sign-in) -----------------------------------------------------------------

  issueOAuthCode(userid: string): string {
    this.requireRep(userid);
    const code = this.newId('oc');
    this.oauthCodes.set(code, { userid, expiresAt: this.now() + OAUTH_CODE_VALIDITY_MS });
    return code;
  }

  useOAuthCode(code: string): string {
    const entry = this.oauthCodes.get(code);
    this.oauthCodes.delete(code);
    if (!entry || this.now() >= entry.expiresAt) throw new SimError(40029);
    return entry.userid;
  }

  // --- groups, channel QRs, mass sends ---------------------------------------------------------

  addGroupChat(chat: Omit<SimGroupChat, 'chatId' | 'createTime' | 'status' | 'notice' | 'admins'> & Partial<SimGroupChat>): SimGroupChat {
    const created: SimGroupChat = {
      chatId: chat.chatId ?? this.newId('wr'),
      createTime: chat.createTime ?? this.nowSeconds(),
      status: chat.status ?? 0,
      notice: chat.notice ?? '',
      admins: chat.admins ?? [],
      name: chat.name,
      owner: chat.owner,
      members: chat.members,
    };
    this.groupChats.set(created.chatId, created);
    return created;
  }

  requireGroupChat(chatId: string): SimGroupChat {
    const chat = this.groupChats.get(chatId);
    if (!chat) throw new SimError(40050);
    return chat;
  }

  addContactWay(way: Omit<SimContactWay, 'configId' | 'qrCode'>): SimContactWay {
    for (const userid of way.user) this.requireRep(userid);
    const configId = this.newId('cw');
    const created: SimContactWay = { ...way, configId, qrCode: `https://wework.qpic.cn/sim/qr/${configId}` };
    this.contactWays.set(configId, created);
    return created;
  }

  requireMassTask(msgid: string): SimMassTask {
    const task = this.massTasks.get(msgid);
    if (!task) throw new SimError(40058, 'invalid msgid');
    return task;
  }

  // --- temporary media and app messages ------------------------------------------------------

  addMedia(media: Omit<SimMedia, 'mediaId' | 'createdAt'>): SimMedia {
    const created: SimMedia = { ...media, mediaId: this.newId('3m'), createdAt: this.nowSeconds() };
    this.media.set(created.mediaId, created);
    return created;
  }

  /** 40007 for an unknown media_id, one of another type, or one past its 3 days. */
  requireMedia(mediaId: string, type?: SimMedia['type']): SimMedia {
    const media = this.media.get(mediaId);
    if (!media || (type && media.type !== type) || this.nowSeconds() >= media.createdAt + MEDIA_LIFETIME_S) throw new SimError(40007);
    return media;
  }

  deliverAppMessage(message: Omit<SimAppMessage, 'sendTime'>): SimAppMessage {
    const delivered = { ...message, sendTime: this.nowSeconds() };
    this.appMessages.push(delivered);
    return delivered;
  }

  /** What this member received from the app, oldest first. */
  appMessagesOf(userid: string): SimAppMessage[] {
    return this.appMessages.filter((m) => m.userid === userid);
  }

  allAppMessages(): SimAppMessage[] {
    return [...this.appMessages];
  }

  /** The rep confirmed the mass send in their WeCom client: their deliveries go out. */
  confirmMassSend(msgid: string, userid: string): void {
    const task = this.requireMassTask(msgid);
    for (const delivery of task.deliveries) {
      if (delivery.sender === userid && delivery.status === 0) {
        delivery.status = 1;
        delivery.sendTime = this.nowSeconds();
      }
    }
  }
}

/**
 * An avatar the simulator draws itself (the first character on a colour of the name), as a data URL:
 * an offline demo asks no image host, so a browser logs no failed request.
 */
export function simulatedAvatar(name: string): string {
  const hue = [...name].reduce((h, c) => (h * 31 + c.codePointAt(0)!) % 360, 0);
  const initial = [...name][0] ?? '?';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="hsl(${hue},55%,55%)"/><text x="32" y="42" font-size="30" text-anchor="middle" fill="white" font-family="sans-serif">${initial.replace(/[<>&"]/g, '')}</text></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}
