import { createHash } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import type { ContactSnapshot } from '../contacts/index.ts';
import { withWorkFields, workFieldsFor, type WorkFields } from '../queue/index.ts';
import { bulkWriteErrors, GroupCommit, type Settled } from '../store/index.ts';
import { textField, type XmlFields } from './callback/xml.ts';

/** A decrypted callback, stored before we answer WeCom so nothing acknowledged is ever lost. */
export interface InboxItem extends WorkFields {
  key: string;
  event: string;
  changeType: string;
  fields: XmlFields;
  receivedAt: Date;
  /**
   * An add_external_contact with a WelcomeCode, while it waits: when its welcome code lapses. The
   * worker claims these first, earliest first, and clears the field on claim (QueueWorker urgentBy).
   */
  welcomeBy?: Date | null;
  /** Set once the welcome lane has sent (or tried) the welcome: the rest of the event runs as ordinary work. */
  welcomed?: WelcomeStage | null;
}

/**
 * What the welcome stage of an add event left: WeCom's answer about the contact when it was in time
 * (the second stage stores it instead of asking again), and whether a plan took the code.
 */
export interface WelcomeStage {
  snapshot?: ContactSnapshot | null;
  taken: boolean;
}

/** WeCom accepts a welcome code for 20 s after the event (path/92277). */
const WELCOME_WINDOW_MS = 20_000;

/**
 * When an event's welcome code lapses, or null if it carries none. The window runs from the
 * event's CreateTime (whole seconds, WeCom's clock) or our receipt, whichever is earlier: a clock
 * running ahead of ours must not buy time WeCom does not give.
 */
export function welcomeDeadline(fields: XmlFields, receivedAt: Date): Date | null {
  if (textField(fields, 'ChangeType') !== 'add_external_contact' || !textField(fields, 'WelcomeCode')) return null;
  const created = Number(textField(fields, 'CreateTime')) * 1000;
  const start = Number.isFinite(created) && created > 0 ? Math.min(created, receivedAt.getTime()) : receivedAt.getTime();
  return new Date(start + WELCOME_WINDOW_MS);
}

const inboxSchema = withWorkFields(
  new Schema<InboxItem>({
    key: { type: String, required: true, unique: true },
    event: { type: String, default: '' },
    changeType: { type: String, default: '' },
    fields: { type: Schema.Types.Mixed, required: true },
    receivedAt: { type: Date, required: true },
    welcomeBy: { type: Date, default: null },
    welcomed: { type: Schema.Types.Mixed, default: null },
  }),
);
// Serves the welcome lane's claim (range and sort); only waiting welcome events carry a value.
inboxSchema.index({ welcomeBy: 1 });

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

type StoreOutcome = 'stored' | 'duplicate';

/** The most events one insert carries; a burst beyond it is written in several. */
const MAX_BATCH = 256;

/**
 * Stores each event once; a duplicate delivery is reported, not stored again. Events go to the
 * store by group commit (an unordered insertMany per batch), so under a burst the driver and store
 * cost is paid per batch rather than per callback, and a single callback still waits no longer
 * than one round trip.
 */
export class InboxWriter {
  private readonly commits: GroupCommit<Record<string, unknown>, StoreOutcome>;

  constructor(inbox: InboxModel) {
    this.commits = new GroupCommit(async (docs) => {
      try {
        // The acknowledgement path: a plain driver insert of complete documents we build right here
        // costs a fraction of mongoose's create (no hydration, casting or validation).
        await inbox.collection.insertMany(docs, { ordered: false });
        return docs.map(() => ({ ok: true, value: 'stored' }));
      } catch (err) {
        const failed = bulkWriteErrors(err);
        if (!failed) throw err;
        const byIndex = new Map(failed.map((e) => [e.index, e.code]));
        return docs.map((_, i): Settled<StoreOutcome> => {
          if (!byIndex.has(i)) return { ok: true, value: 'stored' };
          return byIndex.get(i) === 11000 ? { ok: true, value: 'duplicate' } : { ok: false, error: err };
        });
      }
    }, { maxBatch: MAX_BATCH, gatherFirst: true });
  }

  store(fields: XmlFields, receivedAt: Date): Promise<StoreOutcome> {
    return this.commits.submit(inboxDocument(fields, receivedAt));
  }
}

function inboxDocument(fields: XmlFields, receivedAt: Date): Record<string, unknown> {
  return {
    key: inboxKey(fields),
    event: textField(fields, 'Event') ?? textField(fields, 'MsgType') ?? '',
    changeType: textField(fields, 'ChangeType') ?? '',
    fields,
    receivedAt,
    welcomeBy: welcomeDeadline(fields, receivedAt),
    ...workFieldsFor(receivedAt),
  };
}
