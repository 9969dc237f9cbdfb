import { Schema, type Connection, type Model } from 'mongoose';
import { withWorkFields, type WorkFields } from '../queue/index.ts';

/** Who a bulk tagging job is for: a saved segment, or a filter (the customers module reads either). */
export type AudienceTarget = { segmentId: string } | { filter: Record<string, unknown> };

export interface BulkTagJob extends WorkFields {
  target: AudienceTarget;
  /** Not `add`/`remove`: `remove` is a reserved mongoose path. */
  addTagIds: string[];
  removeTagIds: string[];
  expandedAt: Date | null;
  createdAt?: Date;
}

export interface BulkTagTarget extends WorkFields {
  jobId: string;
  externalUserId: string;
  userId: string;
  key: string;
}

/**
 * A bulk tagging job. Its own work fields are those of its expansion (reading the audience into
 * targets), which is a queue item like any other so a restart finishes an expansion it interrupted.
 */
const bulkTagJobSchema = withWorkFields(
  new Schema<BulkTagJob>(
    {
      target: { type: Schema.Types.Mixed, required: true },
      addTagIds: { type: [String], default: [] },
      removeTagIds: { type: [String], default: [] },
      expandedAt: { type: Date, default: null },
    },
    { timestamps: true, minimize: false },
  ),
);

/** One (customer, rep) relation of a job: its own queue item, so it is marked once and resumed where it stopped. */
const bulkTagTargetSchema = withWorkFields(
  new Schema<BulkTagTarget>(
    {
      jobId: { type: String, required: true },
      externalUserId: { type: String, required: true },
      userId: { type: String, required: true },
      /** `${jobId}:${externalUserId}:${userId}`: a relation met twice while reading the audience is one target. */
      key: { type: String, required: true, unique: true },
    },
    { timestamps: true },
  ),
);
bulkTagTargetSchema.index({ jobId: 1, status: 1 });


export interface BulkTagModels {
  Job: Model<BulkTagJob>;
  Target: Model<BulkTagTarget>;
}

/** Registers the models once per connection (a second instance in the same process reuses them). */
export function registerBulkTagModels(connection: Connection): BulkTagModels {
  return {
    Job: (connection.models.BulkTagJob as Model<BulkTagJob> | undefined) ?? connection.model<BulkTagJob>('BulkTagJob', bulkTagJobSchema, 'bulk_tag_jobs'),
    Target: (connection.models.BulkTagTarget as Model<BulkTagTarget> | undefined) ?? connection.model<BulkTagTarget>('BulkTagTarget', bulkTagTargetSchema, 'bulk_tag_targets'),
  };
}

export const targetKey = (jobId: string, externalUserId: string, userId: string) => `${jobId}:${externalUserId}:${userId}`;
