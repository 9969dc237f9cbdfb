import { STAGES } from '../sop/index.ts';
import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

export const ATTACHMENT_TYPES = ['image', 'link', 'file', 'miniprogram'] as const;
export const USAGE_ACTIONS = ['send', 'copy', 'bot_reply'] as const;

const attachmentSchema = new Schema(
  {
    type: { type: String, enum: ATTACHMENT_TYPES, required: true },
    title: { type: String, default: '' },
    url: { type: String, required: true },
    description: { type: String, default: '' },
  },
  { _id: false },
);

/**
 * A script (话术): words a rep (or the bot) can send, with `{{variables}}` filled per customer.
 * `keywords`, `stages`, `tags` and `sopSteps` say when it fits; `faq` lets the bot answer with it.
 */
const scriptSchema = new Schema(
  {
    key: { type: String, required: true, unique: true },
    category: { type: String, required: true },
    title: { type: String, required: true },
    content: { type: String, required: true },
    attachments: { type: [attachmentSchema], default: [] },
    keywords: { type: [String], default: [] },
    stages: { type: [String], enum: STAGES, default: [] },
    /** Tag names (as reps see them), not ids: a tag resynced from WeCom keeps its scripts. */
    tags: { type: [String], default: [] },
    /** SOP steps it supports, as `templateId/stepId`. */
    sopSteps: { type: [String], default: [] },
    /** The bot may answer a customer's question with this script when a keyword matches. */
    faq: { type: Boolean, default: false },
    enabled: { type: Boolean, default: true },
    order: { type: Number, default: 0 },
  },
  { timestamps: true },
);
scriptSchema.index({ category: 1, order: 1 });

/** One use of a script, keyed by the caller so a retried request counts once. */
const scriptUsageSchema = new Schema({
  key: { type: String, required: true, unique: true },
  scriptKey: { type: String, required: true },
  action: { type: String, enum: USAGE_ACTIONS, required: true },
  userId: { type: String, default: null },
  externalUserId: { type: String, default: null },
  chatId: { type: String, default: null },
  at: { type: Date, required: true },
});
scriptUsageSchema.index({ scriptKey: 1, at: -1 });
scriptUsageSchema.index({ at: -1 });

export type Script = InferSchemaType<typeof scriptSchema>;
export type ScriptUsage = InferSchemaType<typeof scriptUsageSchema>;
export interface ScriptModels {
  Script: Model<Script>;
  ScriptUsage: Model<ScriptUsage>;
}

export function registerScriptModels(connection: Connection): ScriptModels {
  return {
    Script: connection.model('Script', scriptSchema, 'scripts'),
    ScriptUsage: connection.model('ScriptUsage', scriptUsageSchema, 'script_usages'),
  };
}
