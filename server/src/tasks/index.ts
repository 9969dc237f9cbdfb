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
  },
  { timestamps: true },
);
repTaskSchema.index({ externalUserId: 1 });
repTaskSchema.index({ userId: 1 });

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
  const result = await tasks.updateOne({ key: task.key }, { $setOnInsert: { ...task, status: 'open' } }, { upsert: true });
  return result.upsertedCount === 1;
}
