import type { Collection } from 'mongodb';
import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';
import { duplicateKeyIndexes } from './bulk-insert.ts';
import type { Plan } from './models.ts';
import type { ReentryRule } from './templates/schema.ts';


/**
 * The rule in force: the plan's own, else its journey's, else once for plans a contact enters by
 * being added or tagged (a welcome, a tag's nurture: re-adding or re-tagging must not start it
 * again), else every time (each order, loss or churn alert is its own reason to act).
 */
export function reentryRule(plan: Pick<Plan, 'template'> & { reentry?: ReentryRule | null }): ReentryRule {
  if (plan.reentry) return plan.reentry;
  if (plan.template.reentry) return plan.template.reentry;
  const type = plan.template.trigger.type;
  return type === 'contact_added' || type === 'contact_tagged' ? { mode: 'once' } : { mode: 'every_time' };
}

/**
 * One target's entry into a plan: the occurrence that holds it and until when (null = for good).
 * Its unique key is what enforces the rule across instances: a second occurrence can only take the
 * entry over once `until` has passed.
 */
const entrySchema = new Schema(
  {
    key: { type: String, required: true, unique: true },
    planId: { type: Schema.Types.ObjectId, required: true },
    targetId: { type: String, required: true },
    occurrence: { type: String, required: true },
    enteredAt: { type: Date, required: true },
    until: { type: Date, default: null },
  },
  { versionKey: false },
);
entrySchema.index({ planId: 1 });
export type SopEntry = InferSchemaType<typeof entrySchema>;

export function registerEntryModel(connection: Connection): Model<SopEntry> {
  return connection.model<SopEntry>('SopEntry', entrySchema, 'sop_entries');
}

export interface EntryClaim {
  /** The entry's identity within the plan: the target, and for welcomes the rep too (each new relation is welcomed). */
  subject: string;
  targetId: string;
  occurrence: string;
  at: Date;
}

const DAY = 86_400_000;

/**
 * Claims entries for targets about to enrol; resolves which claims the rule admits. An occurrence
 * that already holds the entry is admitted again, so a replayed event or a retried batch carries on.
 */
export async function admitEntries(entries: Pick<Collection, 'bulkWrite'>, plan: Pick<Plan, 'template'> & { _id: unknown; reentry?: ReentryRule | null }, claims: EntryClaim[]): Promise<boolean[]> {
  const rule = reentryRule(plan);
  if (rule.mode === 'every_time' || plan.template.trigger.type === 'schedule' || claims.length === 0) return claims.map(() => true);
  const ops = claims.map((c) => ({
    updateOne: {
      filter: { key: `${String(plan._id)}:${c.subject}`, $or: [{ occurrence: c.occurrence }, { until: { $lte: c.at } }] },
      update: {
        $set: { occurrence: c.occurrence, enteredAt: c.at, until: rule.mode === 'once' ? null : new Date(c.at.getTime() + (rule.days ?? 1) * DAY) },
        $setOnInsert: { planId: plan._id, targetId: c.targetId },
      },
      upsert: true,
    },
  }));
  const admitted = claims.map(() => true);
  try {
    await entries.bulkWrite(ops, { ordered: false });
  } catch (err) {
    // A duplicate key is the entry held by another occurrence still in force: refused.
    for (const index of duplicateKeyIndexes(err)) admitted[index] = false;
  }
  return admitted;
}
