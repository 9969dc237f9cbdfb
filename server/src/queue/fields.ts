import { Schema } from 'mongoose';

export type WorkStatus = 'pending' | 'running' | 'done' | 'dead';

/** The bookkeeping every durable work item carries (inbox events, SOP jobs...), next to its own fields. */
export interface WorkFields {
  status: WorkStatus;
  attempts: number;
  runAt: Date;
  leaseOwner?: string | null;
  leaseUntil?: Date | null;
  lastError?: string | null;
  finishedAt?: Date | null;
}

export const workFieldsDefinition = {
  status: { type: String, enum: ['pending', 'running', 'done', 'dead'], default: 'pending', required: true },
  attempts: { type: Number, default: 0, required: true },
  runAt: { type: Date, default: () => new Date(), required: true },
  leaseOwner: { type: String, default: null },
  leaseUntil: { type: Date, default: null },
  lastError: { type: String, default: null },
  finishedAt: { type: Date, default: null },
} as const;

/** Adds the work fields and the index the claim query needs to a module's schema. */
export function withWorkFields<T extends Schema>(schema: T): T {
  schema.add(workFieldsDefinition);
  schema.index({ status: 1, runAt: 1 });
  schema.index({ status: 1, leaseUntil: 1 });
  return schema;
}
