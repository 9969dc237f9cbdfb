import { createHash } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { withWorkFields, workFieldsFor, type WorkFields } from '../queue/index.ts';
import { textField, type XmlFields } from './callback/xml.ts';

/** A decrypted callback, stored before we answer WeCom so nothing acknowledged is ever lost. */
export interface InboxItem extends WorkFields {
  key: string;
  event: string;
  changeType: string;
  fields: XmlFields;
  receivedAt: Date;
}

const inboxSchema = withWorkFields(
  new Schema<InboxItem>({
    key: { type: String, required: true, unique: true },
    event: { type: String, default: '' },
    changeType: { type: String, default: '' },
    fields: { type: Schema.Types.Mixed, required: true },
    receivedAt: { type: Date, required: true },
  }),
);

// WeCom retries within minutes, so a processed event's dedupe key is only needed briefly; dead
// letters stay until an operator has looked at them.
inboxSchema.index({ finishedAt: 1 }, { expireAfterSeconds: 7 * 86_400, partialFilterExpression: { status: 'done' } });

export type InboxModel = Model<InboxItem>;

export function registerInbox(connection: Connection): InboxModel {
  return connection.model<InboxItem>('WecomInbox', inboxSchema, 'wecom_inbox');
}

/**
 * One key per real-world occurrence. Messages carry MsgId. Events come from "sys" with no id, and
 * two distinct events can share a second (a member joins and another leaves), so the key is a
 * digest of every field, order-independent: a retry of the same event yields the same key.
 */
export function inboxKey(fields: XmlFields): string {
  const msgId = textField(fields, 'MsgId');
  if (msgId) return `msg:${msgId}`;
  return `evt:${createHash('sha256').update(canonical(fields)).digest('hex')}`;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Stores the event once; a duplicate delivery is reported, not stored again. */
export async function storeInInbox(inbox: InboxModel, fields: XmlFields, receivedAt: Date): Promise<'stored' | 'duplicate'> {
  try {
    // The acknowledgement path: a plain driver insert of a complete document costs under half of a
    // mongoose create (no hydration, casting or validation of fields we build ourselves right here).
    await inbox.collection.insertOne({
      key: inboxKey(fields),
      event: textField(fields, 'Event') ?? textField(fields, 'MsgType') ?? '',
      changeType: textField(fields, 'ChangeType') ?? '',
      fields,
      receivedAt,
      ...workFieldsFor(receivedAt),
    });
    return 'stored';
  } catch (err) {
    if ((err as { code?: number }).code === 11000) return 'duplicate';
    throw err;
  }
}
