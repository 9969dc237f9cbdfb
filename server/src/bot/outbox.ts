import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * Pushes the SOP engine handed to the bot, kept until they have gone out. Pacing may hold a push
 * for hours (quiet hours, one room interval per message), far longer than a job's lease, so the
 * job ends once the push is here, and a restart sends what was still waiting instead of losing it.
 */
const outboxSchema = new Schema(
  {
    /** The SOP job's key: a retried job finds its push here instead of queueing a second one. */
    key: { type: String, required: true, unique: true },
    chatKind: { type: String, enum: ['contact', 'room'], required: true },
    /** Wechaty's id of the contact or room. */
    chatId: { type: String, required: true },
    /** The pool contact the push is for (1:1), for its timeline. */
    externalUserId: { type: String, default: null },
    text: { type: String, required: true },
    status: { type: String, enum: ['queued', 'sent', 'failed'], default: 'queued' },
    error: { type: String, default: null },
    sentAt: { type: Date, default: null },
  },
  { timestamps: true },
);
outboxSchema.index({ status: 1, createdAt: 1 });

export type OutboxItem = InferSchemaType<typeof outboxSchema>;

/** A push as the bot queues it: its key (the SOP job's), where it goes and what it says. */
export interface OutboxEntry {
  key: string;
  chatKind: 'contact' | 'room';
  chatId: string;
  externalUserId: string | null;
  text: string;
}

/** Idempotent per connection: a process may build more than one bot on it (tests, a restart in place). */
export function registerOutboxModel(connection: Connection): Model<OutboxItem> {
  return (connection.models.BotOutbox as Model<OutboxItem> | undefined) ?? connection.model('BotOutbox', outboxSchema, 'bot_outbox');
}

export class Outbox {
  constructor(private readonly model: Model<OutboxItem>) {}

  /** Stores the push once; false when its key was there already (queued earlier, or sent). */
  async add(item: OutboxEntry): Promise<boolean> {
    const result = await this.model.updateOne({ key: item.key }, { $setOnInsert: { ...item, status: 'queued' } }, { upsert: true });
    return result.upsertedCount === 1;
  }

  waiting(): Promise<OutboxItem[]> {
    return this.model.find({ status: 'queued' }).sort({ createdAt: 1 }).lean<OutboxItem[]>();
  }

  async sent(key: string, at: Date): Promise<void> {
    await this.model.updateOne({ key }, { $set: { status: 'sent', sentAt: at } });
  }

  async failed(key: string, error: string): Promise<void> {
    await this.model.updateOne({ key }, { $set: { status: 'failed', error } });
  }
}
