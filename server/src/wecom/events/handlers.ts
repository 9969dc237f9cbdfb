import type { ContactPool } from '../../contacts/index.ts';
import type { Logger } from '../../observability/index.ts';
import { PermanentFailure } from '../../queue/index.ts';
import { WecomApiError, type WecomClient } from '../client/index.ts';
import { textField, type XmlFields } from '../callback/xml.ts';
import { welcomeDeadline, type InboxItem, type WelcomeStage } from '../inbox.ts';
import { contactAdded } from './contact-added.ts';
import { contactSnapshot, groupSnapshot, tagRows } from './mapping.ts';

/** Raised after a new contact is in the pool: the SOP engine answers it with the welcome message. */
export interface ContactAdded {
  externalUserId: string;
  userId: string;
  state: string | null;
  welcomeCode: string | null;
  at: Date;
  /** When the welcome code lapses (null without one); a welcome step past it records code_expired unattempted. */
  welcomeDeadline?: Date | null;
  /** The welcome lane already gave the code to a plan: no other plan may be handed it. */
  welcomeTaken?: boolean;
}

/** What the welcome lane learnt of a new contact before the pool has it: for the plan choice and the welcome's text. */
export interface NewContactFacts {
  /** The customer's own name (WeCom's, never a rep's remark); absent when externalcontact/get was not in time. */
  name?: string;
  company?: string;
  /** The new relation's tags: WeCom's and the channel's. */
  tagIds: string[];
}

/** Raised when tags are added to a contact's relation (in WeCom, or by a channel's auto-tags). */
export interface ContactTagged {
  externalUserId: string;
  userId: string;
  tagIds: string[];
  at: Date;
}

export interface EventDeps {
  client: WecomClient;
  pool: ContactPool;
  logger: Logger;
  onContactAdded?: (event: ContactAdded) => Promise<void>;
  onContactTagged?: (event: ContactTagged) => Promise<void>;
  /** del_follow_user, after the pool recorded the lost relation (contact_lost SOPs, churn scores). */
  onContactLost?: (event: { externalUserId: string; userId: string; at: Date }) => Promise<void>;
  /**
   * The welcome lane: sends the add event's welcome now, through the SOP engine's plan choice and
   * send ledger. Resolves whether a plan took the code.
   */
  welcomeNow?: (event: ContactAdded, known: NewContactFacts) => Promise<boolean>;
  /** How much of the window is kept for the name-free fallback when externalcontact/get is slow; default 5 s. */
  welcomeFallbackMarginMs?: number;
}

/** WeCom codes that no retry can fix: the contact or relation is gone, or we may not see it. */
const UNRECOVERABLE = new Set([40096, 84061, 48002, 60020, 40001]);

/** Applies one inbox event to the pool. Safe to run twice for the same event. */
export async function applyEvent(item: Pick<InboxItem, 'fields' | 'key' | 'receivedAt' | 'welcomed'>, deps: EventDeps): Promise<void> {
  const { fields, key } = item;
  const event = textField(fields, 'Event');
  try {
    switch (event) {
      case 'change_external_contact':
        return await externalContactChanged(fields, key, { deadline: welcomeDeadline(fields, item.receivedAt), done: item.welcomed ?? null }, deps);
      case 'change_external_chat':
        return await externalChatChanged(fields, key, deps);
      case 'change_external_tag':
        return await externalTagChanged(fields, deps);
      default:
        deps.logger.debug({ event, msgType: textField(fields, 'MsgType') }, 'callback ignored: not an event we act on');
    }
  } catch (err) {
    if (err instanceof WecomApiError && UNRECOVERABLE.has(err.errcode)) {
      throw new PermanentFailure(err.message, { cause: err });
    }
    throw err;
  }
}

function required(fields: XmlFields, name: string): string {
  const value = textField(fields, name);
  if (!value) throw new PermanentFailure(`event without ${name}`);
  return value;
}

function eventTime(fields: XmlFields): Date {
  const seconds = Number(textField(fields, 'CreateTime'));
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : new Date();
}

async function externalContactChanged(
  fields: XmlFields,
  key: string,
  welcome: { deadline: Date | null; done: WelcomeStage | null },
  deps: EventDeps,
): Promise<void> {
  const { client, pool } = deps;
  const changeType = textField(fields, 'ChangeType');
  const userId = required(fields, 'UserID');
  const externalUserId = required(fields, 'ExternalUserID');
  const at = eventTime(fields);
  const state = textField(fields, 'State') || null;
  const timeline = (kind: string, data: Record<string, unknown> = {}) =>
    pool.addTimeline({ externalUserId, userId, at, kind, key: `${key}:${kind}`, data });

  switch (changeType) {
    case 'add_external_contact':
      return contactAdded(
        { externalUserId, userId, state, at, key, welcomeCode: textField(fields, 'WelcomeCode') || null, welcomeDeadline: welcome.deadline },
        welcome.done,
        deps,
      );
    case 'add_half_external_contact':
      await pool.recordPendingFollow({ externalUserId, userId, state, at });
      await timeline('half_added', { state });
      return;
    case 'edit_external_contact': {
      const snapshot = contactSnapshot(await client.externalContact.get(externalUserId));
      const follow = snapshot.follows.find((f) => f.userId === userId);
      if (follow) {
        const { added } = await pool.setFollowTags({ externalUserId, userId, tagIds: follow.tagIds, at, key: `${key}:tags` });
        if (added.length > 0) await deps.onContactTagged?.({ externalUserId, userId, tagIds: added, at });
      }
      await pool.upsertFromWecom(snapshot, at);
      await timeline('edited');
      return;
    }
    case 'del_external_contact': {
      const byTransfer = textField(fields, 'Source') === 'DELETE_BY_TRANSFER';
      await pool.endFollow({ externalUserId, userId, status: byTransfer ? 'transferred' : 'deleted', at, key });
      await timeline(byTransfer ? 'transferred_away' : 'deleted_by_rep');
      return;
    }
    case 'del_follow_user':
      await pool.endFollow({ externalUserId, userId, status: 'lost', at, key });
      await timeline('deleted_rep');
      await deps.onContactLost?.({ externalUserId, userId, at });
      return;
    case 'transfer_fail':
      await timeline('transfer_failed', { reason: textField(fields, 'FailReason') ?? '' });
      return;
    default:
      deps.logger.info({ changeType }, 'unknown change_external_contact type ignored');
  }
}

async function externalChatChanged(fields: XmlFields, key: string, deps: EventDeps): Promise<void> {
  const chatId = required(fields, 'ChatId');
  const at = eventTime(fields);
  if (textField(fields, 'ChangeType') === 'dismiss') {
    await deps.pool.dismissGroup(chatId);
    return;
  }
  const { joined, left } = await deps.pool.upsertGroup(groupSnapshot(await deps.client.groupChat.get(chatId, true)), at);
  const externals = (members: typeof joined) => members.filter((m) => m.type === 2);
  for (const [kind, members] of [
    ['joined_group', externals(joined)],
    ['left_group', externals(left)],
  ] as const) {
    for (const member of members) {
      await deps.pool.addTimeline({
        externalUserId: member.userId,
        at,
        kind,
        key: `${key}:${kind}:${member.userId}`,
        data: { chatId },
      });
    }
  }
}

async function externalTagChanged(fields: XmlFields, deps: EventDeps): Promise<void> {
  const { client, pool } = deps;
  const id = textField(fields, 'Id') ?? '';
  const isGroup = textField(fields, 'TagType') === 'tag_group';
  switch (textField(fields, 'ChangeType')) {
    case 'create':
    case 'update':
      await pool.upsertTags(tagRows(await client.tags.list(isGroup ? { group_id: [id] } : { tag_id: [id] })));
      return;
    case 'delete':
      await (isGroup ? pool.removeTagGroup(id) : pool.removeTags([id]));
      return;
    case 'shuffle':
      await pool.replaceWecomTags(tagRows(await client.tags.list()));
      return;
    default:
      deps.logger.info({ changeType: textField(fields, 'ChangeType') }, 'unknown change_external_tag type ignored');
  }
}
