import type { ContactPool } from '../contacts/index.ts';

/**
 * Where the product learns that a customer answered. Each counts for the `replied` condition, the
 * score's reply points, the funnel's replied column and the churn rule alike:
 * - `bot`: a message to the customer bot (timeline `message_in`);
 * - `sidebar_mark`: a rep's one tap on 客户已回复 in the sidebar, for a customer who answered in
 *   WeCom itself, where this product cannot read the chat (timeline `replied`, with the rep);
 * - `chat_archive`: messages from WeCom's 会话存档 (chat archive), for a deployment with that licence
 *   that plugs in a ChatArchiveSource (timeline `replied`).
 */
export const REPLY_SOURCES = ['bot', 'sidebar_mark', 'chat_archive'] as const;
export type ReplySource = (typeof REPLY_SOURCES)[number];

/** A customer's message as the chat archive decrypts it: only who, to whom and when matter here. */
export interface ArchivedMessage {
  /** WeCom's msgid: unique per message, so a message read twice counts once. */
  msgId: string;
  externalUserId: string;
  /** The rep the customer wrote to. */
  userId: string;
  at: Date;
}

/**
 * A 会话存档 reader (WeCom's finance SDK, licensed per corp) as a deployment plugs it in: it calls
 * `deliver` for each customer message, in any order, as often as it likes (msgId keeps it once).
 */
export interface ChatArchiveSource {
  start(deliver: (message: ArchivedMessage) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export interface ReplyMark {
  externalUserId: string;
  userId: string;
  at: Date;
  /** The client's key for the tap, so a retried request records one reply. */
  key: string;
}

/** Records replies from the sources other than the bot (the bot writes its own `message_in`). */
export class Replies {
  constructor(private readonly deps: { pool: Pick<ContactPool, 'addTimeline'>; botEnabled: boolean; chatArchive?: ChatArchiveSource | undefined }) {}

  /** The sources in force in this deployment, for the console to say what `replied` counts. */
  sources(): Array<{ source: ReplySource; active: boolean }> {
    const active: Record<ReplySource, boolean> = { bot: this.deps.botEnabled, sidebar_mark: true, chat_archive: this.deps.chatArchive !== undefined };
    return REPLY_SOURCES.map((source) => ({ source, active: active[source] }));
  }

  markedByRep(mark: ReplyMark): Promise<void> {
    return this.deps.pool.addTimeline({ externalUserId: mark.externalUserId, userId: mark.userId, at: mark.at, kind: 'replied', key: `reply:sidebar_mark:${mark.userId}:${mark.key}`, data: { source: 'sidebar_mark' } });
  }

  async start(): Promise<void> {
    await this.deps.chatArchive?.start((message) =>
      this.deps.pool.addTimeline({ externalUserId: message.externalUserId, userId: message.userId, at: message.at, kind: 'replied', key: `reply:chat_archive:${message.msgId}`, data: { source: 'chat_archive' } }),
    );
  }

  async stop(): Promise<void> {
    await this.deps.chatArchive?.stop();
  }
}
