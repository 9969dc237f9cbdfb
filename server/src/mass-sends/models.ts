import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { withWorkFields, type WorkFields } from '../queue/index.ts';
import type { SopContent } from '../sop/index.ts';
import type { MassSendAudience } from './schema.ts';

/**
 * The domain status is `state` because the queue's own bookkeeping (withWorkFields) owns `status`;
 * the API answers it as `status`.
 */
export type MassSendState = 'scheduled' | 'sending' | 'sent' | 'failed' | 'cancelled';

export interface SkippedCounts {
  optedOut: number;
  capped: number;
  noRelation: number;
}

/** One 群发 as the operator composed it. Its work item runs once it is due: it splits the audience per rep. */
export interface MassSend extends WorkFields {
  name: string;
  state: MassSendState;
  /** What the operator asked for (null = now). */
  sendAt: Date | null;
  /** When it really goes: sendAt, moved to the end of quiet hours. */
  goesAt: Date;
  content: SopContent;
  audience: MassSendAudience;
  quietHours: { start: string; end: string };
  timeZone: string;
  /** Found when the audience was split (the cap is counted per rep part, when each goes). */
  skipped: SkippedCounts;
  cancelledAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The rep's part of a mass send: one add_msg_template (≤ 10,000 customers, so a big list is several
 * parts). Keyed by (massSend, rep, part): two instances or a restart never make a second part. Its
 * work item sends, then keeps coming back to read what WeCom reports until nothing is pending.
 */
export type RepPartState = 'queued' | 'sending' | 'sent' | 'skipped' | 'failed' | 'cancelled';

export interface MassSendRep extends WorkFields {
  key: string;
  massSendId: Types.ObjectId;
  userId: string;
  part: number;
  chatType: 'single' | 'group';
  /** Customers (external_userid) or groups (chat_id) the part was planned for. */
  targets: string[];
  /** targets.length, kept so views need not load the lists. */
  targetCount: number;
  state: RepPartState;
  /** The targets that passed the cap and went into the call. */
  recipients: string[];
  capped: number;
  /** Refused by WeCom at creation (fail_list). */
  failList: string[];
  /** Targets that did not go out: fail_list, or the whole part when WeCom refused the call. */
  failed: number;
  text: string;
  msgid: string | null;
  sendStartedAt: Date | null;
  sentAt: Date | null;
  /** The read-back: what WeCom reports per recipient. */
  sent: number;
  pending: number;
  notFriend: number;
  overLimit: number;
  /** The rep confirmed the task in the client (get_groupmsg_task status 2). */
  confirmedAt: Date | null;
  checkedAt: Date | null;
  /** The last read-back failure, kept on the part (it is retried later); null once one succeeds. */
  readBackError: string | null;
  /** Failed reads in a row; when they were given up (the error above says why). */
  readBackFailures: number;
  readBackGivenUpAt: Date | null;
  remindedAt: Date | null;
  error: string | null;
}

const count = { type: Number, default: 0 };

const massSendSchema = withWorkFields(
  new Schema<MassSend>(
    {
      name: { type: String, required: true },
      state: { type: String, enum: ['scheduled', 'sending', 'sent', 'failed', 'cancelled'], default: 'scheduled' },
      sendAt: { type: Date, default: null },
      goesAt: { type: Date, required: true },
      content: { type: Schema.Types.Mixed, required: true },
      audience: { type: Schema.Types.Mixed, required: true },
      quietHours: { type: Schema.Types.Mixed, required: true },
      timeZone: { type: String, required: true },
      skipped: { optedOut: count, capped: count, noRelation: count },
      cancelledAt: { type: Date, default: null },
    },
    { timestamps: true, minimize: false },
  ),
);
massSendSchema.index({ createdAt: -1 });

const repPartSchema = withWorkFields(
  new Schema<MassSendRep>(
    {
      key: { type: String, required: true, unique: true },
      massSendId: { type: Schema.Types.ObjectId, required: true },
      userId: { type: String, required: true },
      part: { type: Number, required: true },
      chatType: { type: String, enum: ['single', 'group'], required: true },
      targets: { type: [String], default: [] },
      targetCount: count,
      state: { type: String, enum: ['queued', 'sending', 'sent', 'skipped', 'failed', 'cancelled'], default: 'queued' },
      recipients: { type: [String], default: [] },
      capped: count,
      failList: { type: [String], default: [] },
      failed: count,
      text: { type: String, default: '' },
      msgid: { type: String, default: null },
      sendStartedAt: { type: Date, default: null },
      sentAt: { type: Date, default: null },
      sent: count,
      pending: count,
      notFriend: count,
      overLimit: count,
      confirmedAt: { type: Date, default: null },
      checkedAt: { type: Date, default: null },
      readBackError: { type: String, default: null },
      readBackFailures: count,
      readBackGivenUpAt: { type: Date, default: null },
      remindedAt: { type: Date, default: null },
      error: { type: String, default: null },
    },
    { timestamps: true },
  ),
);
repPartSchema.index({ massSendId: 1 });

export interface MassSendModels {
  MassSend: Model<MassSend>;
  RepPart: Model<MassSendRep>;
}

export function registerMassSendModels(connection: Connection): MassSendModels {
  return {
    MassSend: connection.model<MassSend>('MassSend', massSendSchema, 'mass_sends'),
    RepPart: connection.model<MassSendRep>('MassSendRep', repPartSchema, 'mass_send_reps'),
  };
}
