import mongoose from 'mongoose';
import type { Contact, ContactModels, CustomerGroup, GroupMember, Tag } from './models.ts';
import { ShortLivedReads } from '../short-lived-reads/index.ts';
import { nameCompanyKey, normalisePhones } from '../identity/index.ts';
import { recordWecomReps } from './reps.ts';

/** What we know of a contact from WeCom (externalcontact/get or batch/get_by_user), in our words. */
export interface ContactSnapshot {
  externalUserId: string;
  unionId?: string | null;
  name: string;
  avatar?: string;
  type: 1 | 2;
  gender?: 0 | 1 | 2;
  corpName?: string;
  corpFullName?: string;
  position?: string;
  follows: FollowSnapshot[];
}

export interface FollowSnapshot {
  userId: string;
  remark?: string;
  description?: string;
  remarkMobiles?: string[];
  addedAt: Date;
  tagIds: string[];
  state?: string | null;
  addWay?: number | null;
}

export interface GroupSnapshot {
  chatId: string;
  name: string;
  owner: string;
  notice?: string;
  adminList: string[];
  createdAt: Date | null;
  members: GroupMember[];
}

/** A personal-WeChat contact as the bot sees it. */
export interface BotContactSnapshot {
  botContactId: string;
  name: string;
  avatar?: string;
  gender?: 0 | 1 | 2;
  /** Known only with some puppets; the strongest link to a WeCom contact. */
  unionId?: string | null;
  phones?: string[];
}

export interface BotRoomSnapshot {
  roomId: string;
  topic: string;
  ownerId?: string;
  memberIds: string[];
}

export type TimelineInput = {
  externalUserId: string;
  at: Date;
  kind: string;
  key: string;
  userId?: string | null;
  data?: Record<string, unknown>;
};

/** A corp tag as the mirror stores it; groupOrder is optional for callers that only know the tag. */
export type TagRow = Pick<Tag, 'tagId' | 'name' | 'groupId' | 'groupName' | 'order'> & { groupOrder?: number };

/** A room only the bot knows is the customer group `bot:<room id>`: WeCom chat ids never look like that. */
export const botChatId = (roomId: string): string => `bot:${roomId}`;

/** The room id inside a bot-only group's chat id, or null for a WeCom group. */
export const botRoomOf = (chatId: string): string | null => (chatId.startsWith('bot:') ? chatId.slice(4) : null);

/** Timeline kinds that are the customer answering (a message to the rep, or a reply to a push). */
export const REPLY_KINDS = ['message_in', 'replied'];

/** Timeline kinds that are the customer acting, as opposed to something done to or for them. */
const ACTIVITY_KINDS = new Set(['added', 'message_in', 'replied', 'order_paid', 'joined_group']);

const CHANNEL_TAGS_TTL_MS = 2_000;

/** What WeCom says identifies a contact, as the matcher reads it. */
export interface IdentityFacts {
  unionId: string | null;
  phones: string[];
  name: string;
  company: string;
}
export type IdentityListener = (externalUserId: string, facts: IdentityFacts) => Promise<void>;

const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

/**
 * The contact pool's write side. Every operation is idempotent, so replaying a callback or rerunning
 * a sync converges on the same state instead of duplicating anything.
 */
export class ContactPool {
  private readonly channelTags = new ShortLivedReads<string[]>(CHANNEL_TAGS_TTL_MS);

  private readonly identityListeners: IdentityListener[] = [];

  constructor(private readonly models: ContactModels) {}

  /** Called when a WeCom contact arrives or brings identity facts it did not have (the identity module matches it; main.ts). */
  onIdentityFacts(listener: IdentityListener): void {
    this.identityListeners.push(listener);
  }

  /** The customers' own names (never a rep's remark), by external_userid; unknown ids are absent. */
  async namesOf(externalUserIds: string[]): Promise<Map<string, string>> {
    const people = await this.models.Contact.find({ externalUserId: mongoose.trusted({ $in: externalUserIds }) }, { externalUserId: 1, name: 1 }).lean();
    return new Map(people.map((p) => [p.externalUserId, p.name]));
  }

  /** Upserts the contact and each listed follow relation; returns the reps whose relation is new or re-activated. */
  async upsertFromWecom(snapshot: ContactSnapshot, at: Date): Promise<{ created: boolean; newFollows: string[] }> {
    const { Contact, FollowRelation } = this.models;
    const before = await Contact.findOneAndUpdate(
      { externalUserId: snapshot.externalUserId },
      {
        $set: {
          unionId: snapshot.unionId ?? null,
          name: snapshot.name,
          avatar: snapshot.avatar ?? '',
          type: snapshot.type,
          gender: snapshot.gender ?? 0,
          corpName: snapshot.corpName ?? '',
          corpFullName: snapshot.corpFullName ?? '',
          position: snapshot.position ?? '',
          syncedAt: at,
        },
        $setOnInsert: { origin: 'wecom' },
        $min: { enteredAt: earliest(snapshot.follows.map((f) => f.addedAt)) ?? at },
      },
      { upsert: true, returnDocument: 'before' },
    ).lean();

    const newFollows: string[] = [];
    for (const follow of snapshot.follows) {
      const previous = await FollowRelation.findOneAndUpdate(
        { externalUserId: snapshot.externalUserId, userId: follow.userId },
        {
          $set: {
            status: 'active',
            remark: follow.remark ?? '',
            description: follow.description ?? '',
            remarkMobiles: follow.remarkMobiles ?? [],
            addedAt: follow.addedAt,
            removedAt: null,
            tagIds: follow.tagIds,
            ...(follow.state ? { state: follow.state } : {}),
            ...(follow.addWay !== undefined && follow.addWay !== null ? { addWay: follow.addWay } : {}),
          },
          $min: { enteredAt: follow.addedAt },
        },
        { upsert: true, returnDocument: 'before' },
      ).lean();
      if (!previous || previous.status !== 'active') newFollows.push(follow.userId);
    }
    const phones = normalisePhones(snapshot.follows.flatMap((f) => f.remarkMobiles ?? []));
    // Before the facts are recorded: should reconciling fail, the retried event sees them as new again.
    const known = new Set(before?.phones ?? []);
    const hasNewFacts = before === null || phones.some((p) => !known.has(p)) || (!!snapshot.unionId && snapshot.unionId !== before.unionId);
    if (hasNewFacts) {
      const facts: IdentityFacts = { unionId: snapshot.unionId ?? null, phones, name: snapshot.name, company: snapshot.corpName ?? '' };
      for (const listener of this.identityListeners) await listener(snapshot.externalUserId, facts);
    }
    await this.recordIdentity(snapshot.externalUserId, {
      phones,
      name: snapshot.name,
      company: snapshot.corpName ?? '',
      source: 'wecom',
      at,
    }, before ?? { name: snapshot.name });
    return { created: before === null, newFollows };
  }

  /**
   * Joins phones (normalised) to the contact's identity with their provenance, keeps `phone` the
   * first of them, and keeps the name + company key current. A write only when something changed,
   * so a re-sync of a known contact costs one read.
   */
  async recordIdentity(
    externalUserId: string,
    input: { phones: string[]; name?: string; company?: string; source: string; at: Date },
    /** The contact as it was, when the caller just read it (saves the read). */
    known?: Pick<Contact, 'name'> & Partial<Pick<Contact, 'phone' | 'phones' | 'company' | 'corpName' | 'nameCompanyKey'>>,
  ): Promise<void> {
    const { Contact } = this.models;
    const current = known ?? (await Contact.findOne({ externalUserId }, { name: 1, phone: 1, phones: 1, company: 1, corpName: 1, nameCompanyKey: 1 }).lean());
    if (!current) return;
    const had = new Set(current.phones ?? []);
    const added = input.phones.filter((p) => !had.has(p));
    const key = nameCompanyKey(input.name ?? current.name, current.company || input.company || current.corpName);
    const set: Record<string, unknown> = {};
    if (key !== (current.nameCompanyKey ?? null)) set.nameCompanyKey = key;
    if (!current.phone && (current.phones?.[0] ?? added[0])) set.phone = current.phones?.[0] ?? added[0];
    if (added.length === 0 && Object.keys(set).length === 0) return;
    await Contact.updateOne(
      { externalUserId },
      {
        ...(Object.keys(set).length > 0 ? { $set: set } : {}),
        ...(added.length > 0
          ? {
              $addToSet: { phones: { $each: added } },
              $push: { identitySources: { $each: added.map((value) => ({ field: 'phone', value, source: input.source, at: input.at })) } },
            }
          : {}),
      },
    );
  }

  /** The reps WeCom lists (a sync): who an import may name as follow_userid. */
  recordWecomReps(userIds: string[]): Promise<void> {
    return recordWecomReps(this.models, userIds);
  }

  /** add_half_external_contact: the customer added the rep, who has not confirmed yet. */
  async recordPendingFollow(input: { externalUserId: string; userId: string; state: string | null; at: Date }): Promise<void> {
    const { Contact, FollowRelation } = this.models;
    await Contact.updateOne(
      { externalUserId: input.externalUserId },
      { $setOnInsert: { origin: 'wecom' }, $min: { enteredAt: input.at } },
      { upsert: true },
    );
    await FollowRelation.updateOne(
      { externalUserId: input.externalUserId, userId: input.userId },
      {
        $setOnInsert: { status: 'pending', ...(input.state ? { state: input.state } : {}) },
        $min: { enteredAt: input.at },
      },
      { upsert: true },
    );
  }

  /** Ends a relation: `lost` when the customer deleted the rep (raises a churn alert), `deleted`/`transferred` when the rep side ended it. */
  async endFollow(input: {
    externalUserId: string;
    userId: string;
    status: 'lost' | 'deleted' | 'transferred';
    at: Date;
    key: string;
  }): Promise<void> {
    const { FollowRelation, ChurnAlert } = this.models;
    await FollowRelation.updateOne(
      { externalUserId: input.externalUserId, userId: input.userId },
      { $set: { status: input.status, removedAt: input.at } },
      { upsert: true },
    );
    if (input.status === 'lost') {
      await ignoreDuplicate(
        ChurnAlert.create({ externalUserId: input.externalUserId, userId: input.userId, at: input.at, key: input.key }),
      );
    }
  }

  /** Sets a relation's tags to exactly `tagIds`, recording what changed on the timeline. */
  async setFollowTags(input: { externalUserId: string; userId: string; tagIds: string[]; at: Date; key: string }): Promise<{ added: string[]; removed: string[] }> {
    const previous = await this.models.FollowRelation.findOneAndUpdate(
      { externalUserId: input.externalUserId, userId: input.userId },
      { $set: { tagIds: input.tagIds } },
      { returnDocument: 'before' },
    ).lean();
    const before = new Set(previous?.tagIds ?? []);
    const after = new Set(input.tagIds);
    const added = input.tagIds.filter((t) => !before.has(t));
    const removed = [...before].filter((t) => !after.has(t));
    if (added.length > 0 || removed.length > 0) {
      await this.addTimeline({
        externalUserId: input.externalUserId,
        userId: input.userId,
        at: input.at,
        kind: 'tags_changed',
        key: input.key,
        data: { added, removed },
      });
    }
    return { added, removed };
  }

  /** Adds and removes tags on a relation (after WeCom's mark_tag took them), recording the change on the timeline. */
  async changeFollowTags(input: { externalUserId: string; userId: string; add: string[]; remove: string[]; at: Date; key: string }): Promise<{ added: string[]; removed: string[] }> {
    const relation = await this.models.FollowRelation.findOne({ externalUserId: input.externalUserId, userId: input.userId }, { tagIds: 1 }).lean();
    const tagIds = new Set(relation?.tagIds ?? []);
    input.remove.forEach((id) => tagIds.delete(id));
    input.add.forEach((id) => tagIds.add(id));
    return this.setFollowTags({ externalUserId: input.externalUserId, userId: input.userId, tagIds: [...tagIds], at: input.at, key: input.key });
  }

  async addTags(input: { externalUserId: string; userId: string; tagIds: string[] }): Promise<void> {
    await this.models.FollowRelation.updateOne(
      { externalUserId: input.externalUserId, userId: input.userId },
      { $addToSet: { tagIds: { $each: input.tagIds } } },
    );
  }

  /** Appends to the contact's timeline once per key; the customer's own actions also mark them active. */
  async addTimeline(event: TimelineInput): Promise<void> {
    await ignoreDuplicate(this.models.TimelineEvent.create({ ...event, userId: event.userId ?? null, data: event.data ?? {} }));
    if (ACTIVITY_KINDS.has(event.kind)) {
      await this.models.Contact.updateOne({ externalUserId: event.externalUserId }, { $max: { lastActivityAt: event.at } });
    }
  }

  async upsertTags(tags: TagRow[]): Promise<void> {
    if (tags.length === 0) return;
    await this.models.Tag.bulkWrite(
      tags.map((tag) => ({
        updateOne: { filter: { tagId: tag.tagId }, update: { $set: { ...tag, origin: 'wecom' } }, upsert: true },
      })),
    );
  }

  /** Replaces the mirror of WeCom's corp tags with `tags` (a full list, e.g. after a shuffle or a sync). */
  async replaceWecomTags(tags: TagRow[]): Promise<void> {
    await this.upsertTags(tags);
    const gone = await this.models.Tag.distinct('tagId', { origin: 'wecom', tagId: mongoose.trusted({ $nin: tags.map((t) => t.tagId) }) });
    await this.removeTags(gone);
  }

  /** Forgets deleted tags: from the library and from every relation carrying them (WeCom drops them from customers too). */
  async removeTags(tagIds: string[]): Promise<void> {
    if (tagIds.length === 0) return;
    await this.models.Tag.deleteMany({ tagId: mongoose.trusted({ $in: tagIds }) });
    await this.models.FollowRelation.updateMany({ tagIds: mongoose.trusted({ $in: tagIds }) }, { $pull: { tagIds: mongoose.trusted({ $in: tagIds }) } });
  }

  async removeTagGroup(groupId: string): Promise<void> {
    await this.removeTags(await this.models.Tag.distinct('tagId', { groupId }));
  }

  /** Upserts a customer group; returns the external members who joined or left since the stored copy. */
  async upsertGroup(snapshot: GroupSnapshot, at: Date): Promise<{ joined: GroupMember[]; left: GroupMember[] }> {
    const previous = await this.models.CustomerGroup.findOneAndUpdate(
      { chatId: snapshot.chatId },
      {
        $set: {
          name: snapshot.name,
          owner: snapshot.owner,
          notice: snapshot.notice ?? '',
          adminList: snapshot.adminList,
          createdAtWecom: snapshot.createdAt,
          status: 'active',
          members: snapshot.members,
          memberCount: snapshot.members.length,
          syncedAt: at,
        },
      },
      { upsert: true, returnDocument: 'before' },
    ).lean<CustomerGroup | null>();
    const before = new Map((previous?.members ?? []).map((m) => [m.userId, m]));
    const after = new Map(snapshot.members.map((m) => [m.userId, m]));
    return {
      joined: snapshot.members.filter((m) => !before.has(m.userId)),
      left: [...before.values()].filter((m) => !after.has(m.userId)),
    };
  }

  async dismissGroup(chatId: string): Promise<void> {
    await this.models.CustomerGroup.updateOne({ chatId }, { $set: { status: 'dismissed' } }, { upsert: true });
  }

  /**
   * Records a contact the bot met and returns the pool contact it is: one already linked to this bot
   * contact, else a WeCom contact with the same unionid or phone (linked now: one person, one
   * contact), else a new bot-only contact `bot:<id>`.
   */
  async recordBotContact(snapshot: BotContactSnapshot, at: Date): Promise<{ externalUserId: string; linked: boolean; created: boolean }> {
    const { Contact } = this.models;
    const known = await Contact.findOne({ botContactId: snapshot.botContactId }, { externalUserId: 1, origin: 1 }).lean();
    if (known) return { externalUserId: known.externalUserId, linked: known.origin !== 'bot', created: false };

    const match = await this.findByIdentity(snapshot);
    const phones = normalisePhones(snapshot.phones ?? []);
    if (match) {
      await Contact.updateOne({ externalUserId: match }, { $set: { botContactId: snapshot.botContactId } });
      await this.recordIdentity(match, { phones, source: 'bot', at });
      return { externalUserId: match, linked: true, created: false };
    }
    const externalUserId = `bot:${snapshot.botContactId}`;
    const before = await Contact.findOneAndUpdate(
      { externalUserId },
      {
        $set: {
          name: snapshot.name,
          avatar: snapshot.avatar ?? '',
          gender: snapshot.gender ?? 0,
          unionId: snapshot.unionId ?? null,
          phone: phones[0] ?? null,
        },
        $setOnInsert: { origin: 'bot', botContactId: snapshot.botContactId },
        $min: { enteredAt: at },
      },
      { upsert: true, returnDocument: 'before' },
    ).lean();
    await this.recordIdentity(externalUserId, { phones, source: 'bot', at });
    return { externalUserId, linked: false, created: before === null };
  }

  /** A WeCom-side contact with this unionid, or this phone (their own, or one a rep noted in the remark). */
  private async findByIdentity(snapshot: BotContactSnapshot): Promise<string | null> {
    const { Contact, FollowRelation } = this.models;
    const wecomSide = { origin: mongoose.trusted({ $ne: 'bot' as const }) };
    if (snapshot.unionId) {
      const byUnion = await Contact.findOne({ unionId: snapshot.unionId, ...wecomSide }, { externalUserId: 1 }).lean();
      if (byUnion) return byUnion.externalUserId;
    }
    const raw = (snapshot.phones ?? []).filter(Boolean);
    // Raw spellings too: relations and contacts stored before phones were normalised hold them as WeCom gave them.
    const phones = [...new Set([...normalisePhones(raw), ...raw])];
    if (phones.length === 0) return null;
    const byPhone =
      (await Contact.findOne({ phones: mongoose.trusted({ $in: phones }), ...wecomSide }, { externalUserId: 1 }).lean()) ??
      (await Contact.findOne({ phone: mongoose.trusted({ $in: phones }), ...wecomSide }, { externalUserId: 1 }).lean());
    if (byPhone) return byPhone.externalUserId;
    const byRemark = await FollowRelation.findOne({ remarkMobiles: mongoose.trusted({ $in: phones }) }, { externalUserId: 1 }).lean();
    return byRemark?.externalUserId ?? null;
  }

  /**
   * Records a personal-WeChat room the bot is in and returns the customer group it is: one already
   * linked to the room, else the active WeCom group of the same name (the bot account was invited
   * into it: linked now, so SOP steps for that group can also go through the bot), else a bot-only
   * group `bot:<room id>` kept current with the room's topic and members.
   */
  async recordBotRoom(snapshot: BotRoomSnapshot, at: Date): Promise<string> {
    const { CustomerGroup } = this.models;
    const linked = await CustomerGroup.findOne({ botRoomId: snapshot.roomId }, { chatId: 1, origin: 1 }).lean();
    if (linked?.origin === 'wecom') return linked.chatId;
    if (!linked && snapshot.topic) {
      const sameName = await CustomerGroup.findOneAndUpdate(
        { name: snapshot.topic, origin: mongoose.trusted({ $ne: 'bot' as const }), status: 'active', botRoomId: null },
        { $set: { botRoomId: snapshot.roomId } },
      ).lean();
      if (sameName) return sameName.chatId;
    }
    const chatId = botChatId(snapshot.roomId);
    await CustomerGroup.updateOne(
      { chatId },
      {
        $set: {
          name: snapshot.topic,
          owner: snapshot.ownerId ?? '',
          origin: 'bot',
          botRoomId: snapshot.roomId,
          status: 'active',
          members: snapshot.memberIds.map((userId) => ({ userId, type: 2 })),
          memberCount: snapshot.memberIds.length,
          syncedAt: at,
        },
      },
      { upsert: true },
    );
    return chatId;
  }

  /** Adds tags (by name) the bot's keyword rules gave; the new ones go on the timeline once per key. */
  async addBotTags(input: { externalUserId: string; tags: string[]; at: Date; key: string }): Promise<string[]> {
    const before = await this.models.Contact.findOneAndUpdate(
      { externalUserId: input.externalUserId },
      { $addToSet: { botTags: { $each: input.tags } } },
      { returnDocument: 'before' },
    ).lean();
    const had = new Set(before?.botTags ?? []);
    const added = input.tags.filter((t) => !had.has(t));
    if (added.length > 0) {
      await this.addTimeline({ externalUserId: input.externalUserId, at: input.at, kind: 'bot_tagged', key: input.key, data: { added } });
    }
    return added;
  }

  /**
   * A channel's auto-tags. Every add event through a channel asks, twice, so a spike would read the
   * same channel thousands of times: an answer is kept for a couple of seconds (an edit of the
   * channel's tags reaches new contacts after that).
   */
  tagIdsForState(state: string): Promise<string[]> {
    return this.channelTags.get(state, () => this.models.Channel.findOne({ state }, { tagIds: 1 }).lean().then((channel) => channel?.tagIds ?? []));
  }
}

async function ignoreDuplicate(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

function earliest(dates: Date[]): Date | undefined {
  return dates.length === 0 ? undefined : new Date(Math.min(...dates.map((d) => d.getTime())));
}
