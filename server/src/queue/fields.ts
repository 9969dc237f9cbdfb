import { Schema } from 'mongoose';

export type WorkStatus = 'pending' | 'running' | 'done' | 'dead';

/** The bookkeeping every durable work item carries (inbox events, SOP jobs...), next to its own fields. */
export interface WorkFields {
  status: WorkStatus;
  attempts: number;
  /** When a pending item is due; null while it runs and once it is finished. */
  runAt: Date | null;
  leaseOwner?: string | null;
  leaseUntil?: Date | null;
  lastError?: string | null;
  finishedAt?: Date | null;
}

const workFieldsDefinition = {
  status: { type: String, enum: ['pending', 'running', 'done', 'dead'], default: 'pending', required: true },
  attempts: { type: Number, default: 0, required: true },
  runAt: { type: Date, default: () => new Date() },
  leaseOwner: { type: String, default: null },
  leaseUntil: { type: Date, default: null },
  lastError: { type: String, default: null },
  finishedAt: { type: Date, default: null },
} as const;

/** The work fields of a new pending item, for code that inserts through the driver rather than mongoose. */
export function workFieldsFor(runAt: Date): WorkFields {
  return { status: 'pending', attempts: 0, runAt, leaseOwner: null, leaseUntil: null, lastError: null, finishedAt: null };
}

/**
 * Adds the work fields and their indexes to a module's schema. `runAt` is set only while an item
 * waits and `leaseUntil` only while it runs, so each claim query is a range on one single-field
 * index that holds just the open items — cheap on any MongoDB, however many finished items pile up.
 */
export function withWorkFields<T extends Schema>(schema: T): T {
  schema.add(workFieldsDefinition);
  schema.index({ runAt: 1 });
  schema.index({ leaseUntil: 1 });
  schema.index({ status: 1 });
  return schema;
}
