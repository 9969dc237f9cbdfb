import { createHash } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import type { ContactSnapshot } from '../contacts/index.ts';
import { withWorkFields, workFieldsFor, type WorkFields } from '../queue/index.ts';
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
interface PendingStore {
  doc: Record<string, unknown>;
  resolve: (outcome: StoreOutcome) => void;
  reject: (err: unknown) => void;
}

/** The most events one insert carries; a burst beyond it is written in several. */
const MAX_BATCH = 256;

/**
 * Stores each event once; a duplicate delivery is reported, not stored again. Events that arrive
 * while a write is in flight go out together in the next one (an unordered insertMany), so under
 * a burst the driver and store cost is paid per batch rather than per callback, and a single
 * callback still waits no longer than one round trip.
 */
export class InboxWriter {
  private queue: PendingStore[] = [];
  private writing = false;

  constructor(private readonly inbox: InboxModel) {}

  store(fields: XmlFields, receivedAt: Date): Promise<StoreOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ doc: inboxDocument(fields, receivedAt), resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    // Let the callbacks already parsed in this turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) await this.write(this.queue.splice(0, MAX_BATCH));
    this.writing = false;
  }

  private async write(batch: PendingStore[]): Promise<void> {
    const failed = new Map<number, unknown>();
    try {
      // The acknowledgement path: a plain driver insert of complete documents we build right here
      // costs a fraction of mongoose's create (no hydration, casting or validation).
      await this.inbox.collection.insertMany(
        batch.map((item) => item.doc),
        { ordered: false },
      );
    } catch (err) {
      const writeErrors = (err as { writeErrors?: unknown }).writeErrors;
      if (!writeErrors) {
        for (const item of batch) item.reject(err);
        return;
      }
      for (const writeError of [writeErrors].flat() as Array<{ index: number; code?: number }>) {
        failed.set(writeError.index, writeError.code === 11000 ? 'duplicate' : err);
      }
    }
    batch.forEach((item, index) => {
      const failure = failed.get(index);
      if (failure === undefined) item.resolve('stored');
      else if (failure === 'duplicate') item.resolve('duplicate');
      else item.reject(failure);
    });
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
