import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * Work for a rep that the system cannot do itself: a renewal call an SOP asks for, a customer the
 * bot handed off. Shown in the sidebar; created once per source key.
 */
const repTaskSchema = new Schema(
  {
    key: { type: String, required: true, unique: true },
    externalUserId: { type: String, required: true },
    userId: { type: String, default: null },
    title: { type: String, required: true },
    detail: { type: String, default: '' },
    dueAt: { type: Date, required: true },
    status: { type: String, enum: ['open', 'done', 'snoozed'], default: 'open' },
    source: { type: Schema.Types.Mixed, default: {} },
    /**
     * When the rep is still to be reminded: the due time the reminder is for, set with every new
     * due time (creation, snooze) and cleared by the one instance that claims the reminder.
     */
    remindAt: { type: Date, default: null },
    remindedAt: { type: Date, default: null },
    /** Why the last reminder did not reach the rep (WeCom's answer), null once one did. */
    reminderError: { type: String, default: null },
    reminderAttempts: { type: Number, default: 0 },
  },
  { timestamps: true },
);
repTaskSchema.index({ externalUserId: 1 });
repTaskSchema.index({ userId: 1 });
repTaskSchema.index({ remindAt: 1 });

export type RepTask = InferSchemaType<typeof repTaskSchema>;
export type RepTaskModel = Model<RepTask>;

export function registerRepTasks(connection: Connection): RepTaskModel {
  return connection.model('RepTask', repTaskSchema, 'rep_tasks');
}

/** Creates the task unless one with this key exists; returns whether it was created now. */
export async function createRepTask(
  tasks: RepTaskModel,
  task: { key: string; externalUserId: string; userId: string | null; title: string; detail?: string; dueAt: Date; source?: Record<string, unknown> },
): Promise<boolean> {
  const result = await tasks.updateOne({ key: task.key }, { $setOnInsert: { ...task, status: 'open', remindAt: task.dueAt } }, { upsert: true });
  return result.upsertedCount === 1;
}

/** The fields that give an open task a new due time, with a reminder for it. */
export const snoozedUntil = (until: Date) => ({ status: 'snoozed' as const, dueAt: until, remindAt: until, reminderAttempts: 0 });
