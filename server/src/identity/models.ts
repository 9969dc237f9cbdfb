import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/** A lead as imported: kept once per lead_id, so importing the same file again changes nothing. */
const leadSchema = new Schema(
  {
    leadId: { type: String, required: true, unique: true },
    name: { type: String, default: '' },
    phone: { type: String, default: null },
    company: { type: String, default: '' },
    title: { type: String, default: '' },
    email: { type: String, default: '' },
    source: { type: String, default: '' },
    submittedAt: { type: Date, required: true },
    /** What the matcher said, and the contact the lead is (enriched, reviewed against, or created). */
    verdict: { type: String, enum: ['pending', 'matched', 'probable', 'unmatched'], default: 'pending' },
    externalUserId: { type: String, default: null },
  },
  { timestamps: true },
);

/** Two contacts that may be one person (same name and company, nothing harder): an operator decides. */
const reviewSchema = new Schema(
  {
    /** The two externalUserIds, sorted and joined: one review per pair, however often it is detected. */
    pairKey: { type: String, required: true, unique: true },
    contactIds: { type: [String], required: true },
    reason: { type: String, required: true },
    status: { type: String, enum: ['open', 'merged', 'kept_apart'], default: 'open' },
    decidedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
reviewSchema.index({ status: 1, createdAt: 1 });
reviewSchema.index({ contactIds: 1 });

/**
 * One merge of `merged` into `survivor`, holding everything its undo needs: both contacts as they
 * were, and exactly which rows moved or were set aside (by _id), so an undo touches nothing else.
 */
const mergeSchema = new Schema(
  {
    survivor: { type: String, required: true },
    merged: { type: String, required: true },
    survivorName: { type: String, default: '' },
    mergedName: { type: String, default: '' },
    reason: { type: String, required: true },
    auto: { type: Boolean, default: false },
    reviewId: { type: Schema.Types.ObjectId, default: null },
    mergedAt: { type: Date, required: true },
    undoneAt: { type: Date, default: null },
    survivorBefore: { type: Schema.Types.Mixed, required: true },
    mergedContact: { type: Schema.Types.Mixed, required: true },
    moved: {
      followRelations: { type: [Schema.Types.ObjectId], default: [] },
      orders: { type: [Schema.Types.ObjectId], default: [] },
      timeline: { type: [Schema.Types.ObjectId], default: [] },
      enrollments: { type: [Schema.Types.ObjectId], default: [] },
      jobs: { type: [Schema.Types.ObjectId], default: [] },
      sends: { type: [Schema.Types.ObjectId], default: [] },
      leads: { type: [Schema.Types.ObjectId], default: [] },
    },
    /** The merged contact's relations with a rep the survivor also has: removed (their tags joined the survivor's). */
    removedRelations: { type: [Schema.Types.Mixed], default: [] },
    /** The survivor's relations whose tags were joined, with the tags they had. */
    retagged: { type: [new Schema({ id: Schema.Types.ObjectId, tagIds: [String] }, { _id: false })], default: [] },
    /** The merged contact's enrolments in a journey the survivor already runs: exited, with the status they had. */
    exitedEnrollments: { type: [new Schema({ id: Schema.Types.ObjectId, status: String, exitReason: String }, { _id: false })], default: [] },
    /** The merged contact's other open reviews as they were (the merge re-points them to the survivor). */
    reviewsBefore: { type: [Schema.Types.Mixed], default: [] },
  },
  { timestamps: true },
);
mergeSchema.index({ mergedAt: -1 });

export type Lead = InferSchemaType<typeof leadSchema>;
export type IdentityReview = InferSchemaType<typeof reviewSchema>;
export type IdentityMerge = InferSchemaType<typeof mergeSchema>;

export interface IdentityModels {
  Lead: Model<Lead>;
  Review: Model<IdentityReview>;
  Merge: Model<IdentityMerge>;
}

export function registerIdentityModels(connection: Connection): IdentityModels {
  return {
    Lead: connection.model('Lead', leadSchema, 'leads'),
    Review: connection.model('IdentityReview', reviewSchema, 'identity_reviews'),
    Merge: connection.model('IdentityMerge', mergeSchema, 'identity_merges'),
  };
}
