import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * One row per contact with every fact the customer list filters and sorts on, gathered from the
 * contacts, relations, orders, groups and stage overrides (see refresh.ts). It is a cache: dropping
 * the collection makes the next answer rebuild it.
 */
export interface CustomerRow {
  externalUserId: string;
  name: string;
  avatar: string;
  corpName: string;
  phone: string | null;
  remarks: string[];
  reps: string[];
  repsAll: Array<{ userId: string; status: string; remark: string }>;
  repIds: string[];
  status: string;
  tagIds: string[];
  channel: string | null;
  addedAt: Date | null;
  enteredAt: Date | null;
  lastActivityAt: Date | null;
  orders: number;
  spentFen: number;
  groups: string[];
  score: number;
  scoredAt: Date | null;
  stage: string;
  stageComputed: string;
  stageOverride: string | null;
  stageDueAt: Date | null;
  addedKey: number;
  activityKey: number;
}

const customerIndexSchema = new Schema<CustomerRow>(
  {
    externalUserId: { type: String, required: true, unique: true },
    name: { type: String, default: '' },
    avatar: { type: String, default: '' },
    corpName: { type: String, default: '' },
    phone: { type: String, default: null },
    /** Every rep's remark and remarked mobiles, for the text search. */
    remarks: { type: [String], default: [] },
    /** Reps with an active relation: who can send to the customer. */
    reps: { type: [String], default: [] },
    /** Every relation, for display and the rep filter. */
    repsAll: { type: [{ _id: false, userId: String, status: String, remark: String }], default: [] },
    repIds: { type: [String], default: [] },
    /** active: some relation is active; lost: none is, and one was lost or deleted; pending: only half-added; none: no relation. */
    status: { type: String, default: 'none' },
    tagIds: { type: [String], default: [] },
    /** The first relation's channel state, as analytics counts it. */
    channel: { type: String, default: null },
    addedAt: { type: Date, default: null },
    enteredAt: { type: Date, default: null },
    lastActivityAt: { type: Date, default: null },
    orders: { type: Number, default: 0 },
    spentFen: { type: Number, default: 0 },
    groups: { type: [String], default: [] },
    score: { type: Number, default: 0 },
    scoredAt: { type: Date, default: null },
    /** The stage in force (a rep's override, else the computed one), and the computed one. */
    stage: { type: String, default: 'new' },
    stageComputed: { type: String, default: 'new' },
    stageOverride: { type: String, default: null },
    /** When the computed stage changes by time alone: the refresh recomputes the row then. */
    stageDueAt: { type: Date, default: null },
    /** Sort keys as numbers that are never null, so keyset cursors compare one type (epoch ms, 0 = never). */
    addedKey: { type: Number, default: 0 },
    activityKey: { type: Number, default: 0 },
  },
  { versionKey: false },
);
customerIndexSchema.index({ addedKey: -1, externalUserId: -1 });
customerIndexSchema.index({ activityKey: -1, externalUserId: -1 });
customerIndexSchema.index({ score: -1, externalUserId: -1 });
customerIndexSchema.index({ spentFen: -1, externalUserId: -1 });
customerIndexSchema.index({ channel: 1, orders: 1 });
customerIndexSchema.index({ tagIds: 1 });
customerIndexSchema.index({ repIds: 1 });
customerIndexSchema.index({ groups: 1 });
customerIndexSchema.index({ stage: 1 });
customerIndexSchema.index({ stageDueAt: 1 });
customerIndexSchema.index({ scoredAt: 1 });

/** Where the delta refresh has read up to (one document), so a restart does not rebuild. */
export interface CustomerIndexState {
  _id: string;
  readThrough: Date;
}
const customerIndexStateSchema = new Schema<CustomerIndexState>({ _id: { type: String, required: true }, readThrough: { type: Date, required: true } }, { versionKey: false });

/** A saved customer filter; its members are evaluated whenever asked, never stored. */
const segmentSchema = new Schema(
  {
    name: { type: String, required: true },
    filter: { type: Schema.Types.Mixed, required: true },
  },
  { timestamps: true, minimize: false },
);

export type Segment = InferSchemaType<typeof segmentSchema>;

export interface CustomerModels {
  CustomerIndex: Model<CustomerRow>;
  CustomerIndexState: Model<CustomerIndexState>;
  Segment: Model<Segment>;
}

export function registerCustomerModels(connection: Connection): CustomerModels {
  return {
    CustomerIndex: connection.model('CustomerIndex', customerIndexSchema, 'customer_index'),
    CustomerIndexState: connection.model('CustomerIndexState', customerIndexStateSchema, 'customer_index_state'),
    Segment: connection.model('Segment', segmentSchema, 'segments'),
  };
}
