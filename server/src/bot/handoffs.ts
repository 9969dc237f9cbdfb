import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';
import { createRepTask, type RepTaskModel } from '../tasks/index.ts';

/**
 * One document per bot contact: while `active`, a rep has the conversation and the bot says nothing
 * to that contact. Kept in the store, so the silence survives a restart and holds on every instance.
 */
const handoffSchema = new Schema({
  contactId: { type: String, required: true, unique: true },
  externalUserId: { type: String, required: true },
  name: { type: String, default: '' },
  active: { type: Boolean, required: true },
  reason: { type: String, enum: ['asked_for_human', 'unanswered'], required: true },
  /** What the customer said that led here: the rep reads it first. */
  lastText: { type: String, default: '' },
  since: { type: Date, required: true },
  taskKey: { type: String, required: true },
  resumedAt: { type: Date, default: null },
});
handoffSchema.index({ active: 1, since: -1 });

export type Handoff = InferSchemaType<typeof handoffSchema>;
export type HandoffReason = Handoff['reason'];

/** Idempotent per connection: a process may build more than one bot on it (tests, a restart in place). */
export function registerHandoffModel(connection: Connection): Model<Handoff> {
  return (connection.models.BotHandoff as Model<Handoff> | undefined) ?? connection.model('BotHandoff', handoffSchema, 'bot_handoffs');
}

const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

export interface HandoffInput {
  contactId: string;
  externalUserId: string;
  name: string;
  reason: HandoffReason;
  text: string;
  /** The rep who follows this customer in WeCom, when the bot contact is linked to one. */
  userId: string | null;
  at: Date;
}

/** Pauses and resumes the bot per contact, and gives each pause a rep task. */
export class HandoffDesk {
  constructor(
    private readonly model: Model<Handoff>,
    private readonly tasks: RepTaskModel,
  ) {}

  async isPaused(contactId: string): Promise<boolean> {
    return (await this.model.exists({ contactId, active: true })) !== null;
  }

  /** Pauses the bot for the contact and creates the rep task; false when it was paused already. */
  async handOff(input: HandoffInput): Promise<boolean> {
    const taskKey = `bot-handoff:${input.contactId}:${input.at.getTime()}`;
    const fields = { externalUserId: input.externalUserId, name: input.name, active: true, reason: input.reason, lastText: input.text, since: input.at, taskKey, resumedAt: null };
    const reopened = await this.model.updateOne({ contactId: input.contactId, active: false }, { $set: fields });
    if (reopened.matchedCount === 0) {
      try {
        await this.model.create({ contactId: input.contactId, ...fields });
      } catch (err) {
        if (isDuplicateKey(err)) return false; // already handed off (or a concurrent message got there first)
        throw err;
      }
    }
    await createRepTask(this.tasks, {
      key: taskKey,
      externalUserId: input.externalUserId,
      userId: input.userId,
      title: `${input.name || '客户'}需要人工回复（个人号机器人已暂停）`,
      detail: `${input.reason === 'asked_for_human' ? '客户要求转人工' : '机器人无法回答'}：「${input.text}」。回复后在控制台「机器人」页恢复机器人。`,
      dueAt: new Date(input.at.getTime() + 30 * 60_000),
      source: { bot: true, contactId: input.contactId, reason: input.reason },
    });
    return true;
  }

  /** The bot speaks to this contact again; false when it was not paused. */
  async resume(contactId: string, at: Date): Promise<boolean> {
    const result = await this.model.updateOne({ contactId, active: true }, { $set: { active: false, resumedAt: at } });
    return result.modifiedCount === 1;
  }

  async active(): Promise<Array<{ contactId: string; name: string; reason: HandoffReason; since: string; taskKey: string }>> {
    const rows = await this.model.find({ active: true }).sort({ since: -1 }).limit(500).lean();
    return rows.map((h) => ({ contactId: h.contactId, name: h.name, reason: h.reason, since: h.since.toISOString(), taskKey: h.taskKey }));
  }
}
