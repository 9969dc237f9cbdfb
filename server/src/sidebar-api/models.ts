import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';
import { STAGES } from '../sop/index.ts';

/** A note a rep wrote about a customer; keyed by the client so a retried save is stored once. */
const noteSchema = new Schema({
  key: { type: String, required: true, unique: true },
  externalUserId: { type: String, required: true },
  userId: { type: String, required: true },
  text: { type: String, required: true },
  at: { type: Date, required: true },
});
noteSchema.index({ externalUserId: 1, at: -1 });

/** A rep's correction of the computed lifecycle stage, one per contact (the last rep to set it wins). */
const stageOverrideSchema = new Schema({
  externalUserId: { type: String, required: true, unique: true },
  stage: { type: String, enum: STAGES, required: true },
  userId: { type: String, required: true },
  at: { type: Date, required: true },
});

export type Note = InferSchemaType<typeof noteSchema>;
export type StageOverride = InferSchemaType<typeof stageOverrideSchema>;

export interface SidebarModels {
  Note: Model<Note>;
  StageOverride: Model<StageOverride>;
}

/** Idempotent per connection: the customers module reads the same overrides the sidebar writes. */
export function registerSidebarModels(connection: Connection): SidebarModels {
  return {
    Note: (connection.models.RepNote as Model<Note> | undefined) ?? connection.model('RepNote', noteSchema, 'rep_notes'),
    StageOverride: (connection.models.StageOverride as Model<StageOverride> | undefined) ?? connection.model('StageOverride', stageOverrideSchema, 'stage_overrides'),
  };
}
