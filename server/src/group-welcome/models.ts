import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * The 入群欢迎语 this product wants for one WeCom customer group, and the WeCom template
 * (素材库, externalcontact/group_welcome_template) holding it. WeCom cannot bind a template to a
 * group through the API: the group owner picks it in the group's settings in the WeCom app.
 */
const groupWelcomeSchema = new Schema({
  chatId: { type: String, required: true, unique: true },
  /** As saved in WeCom; `%NICKNAME%` becomes the new member's nickname. */
  text: { type: String, required: true },
  templateId: { type: String, required: true },
  /** Whether WeCom was asked to tell group owners about the template when it was created. */
  notify: { type: Boolean, default: true },
  updatedAt: { type: Date, required: true },
  /** Why the last change WeCom refused did not go through (the stored text is still the one WeCom has); null after a success. */
  lastError: { type: String, default: null },
});

export type GroupWelcome = InferSchemaType<typeof groupWelcomeSchema>;

export interface GroupWelcomeModels {
  GroupWelcome: Model<GroupWelcome>;
}

export function registerGroupWelcomeModels(connection: Connection): GroupWelcomeModels {
  return { GroupWelcome: connection.model('GroupWelcome', groupWelcomeSchema, 'group_welcomes') };
}
