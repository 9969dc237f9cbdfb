import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/** One contact's latest churn risk, kept apart from the contact so scoring never rewrites contacts. */
const churnScoreSchema = new Schema(
  {
    externalUserId: { type: String, required: true, unique: true },
    score: { type: Number, required: true, min: 0, max: 100 },
    /** ChurnReason[] from rule.ts: code, zh/en label, points, facts. */
    reasons: { type: Schema.Types.Mixed, default: [] },
    computedAt: { type: Date, required: true },
  },
  { timestamps: false },
);
churnScoreSchema.index({ score: -1 });

export type ChurnScoreRecord = InferSchemaType<typeof churnScoreSchema>;
export type ChurnScoreModel = Model<ChurnScoreRecord>;

export function registerChurnModel(connection: Connection): ChurnScoreModel {
  return connection.model('ChurnScore', churnScoreSchema, 'churn_scores');
}
