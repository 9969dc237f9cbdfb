import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * The contact pool. One contact per person across reps and channels (ONE_ID): WeCom's
 * external_userid is the key for WeCom contacts; bot-side contacts get linked by unionid or phone.
 */
const contactSchema = new Schema(
  {
    externalUserId: { type: String, required: true, unique: true },
    unionId: { type: String, default: null },
    name: { type: String, default: '' },
    avatar: { type: String, default: '' },
    /** 1 = WeChat user, 2 = WeCom user (WeCom's own numbering). */
    type: { type: Number, enum: [1, 2], default: 1 },
    gender: { type: Number, enum: [0, 1, 2], default: 0 },
    corpName: { type: String, default: '' },
    corpFullName: { type: String, default: '' },
    position: { type: String, default: '' },
    /** The first of `phones`: kept because bot linking and older readers look a contact up by it. */
    phone: { type: String, default: null },
    /** Every phone known for the person, normalised (identity/phone.ts): what ONE_ID matches on. */
    phones: { type: [String], default: [] },
    /** The customer's own company and job title as a lead form or import gave them (corpName/position are WeCom's). */
    company: { type: String, default: '' },
    title: { type: String, default: '' },
    email: { type: String, default: '' },
    /** identity/key.ts of name and company: the index a probable (same name, same company) match is read from. */
    nameCompanyKey: { type: String, default: null },
    /** Where each identity value came from and when ('wecom', 'bot', 'import', 'lead:<source>'). */
    identitySources: {
      type: [new Schema({ field: { type: String, required: true }, value: { type: String, default: '' }, source: { type: String, required: true }, at: { type: Date, required: true } }, { _id: false })],
      default: [],
    },
    /** Where we first learned of this contact ('lead': a form submission no rep has met yet). */
    origin: { type: String, enum: ['wecom', 'bot', 'import', 'lead'], default: 'wecom' },
    /** The personal-WeChat (bot) contact id this person has, once the bot met them (linked by unionid or phone when known). */
    botContactId: { type: String, default: null },
    /** Tag names the bot's keyword rules gave (bot-only contacts have no rep relation to carry WeCom tags). */
    botTags: { type: [String], default: [] },
    /** First time any rep relation was entered (half-added or added): the 通过率 denominator. */
    enteredAt: { type: Date },
    /** Last time the customer did something (added us, wrote, bought): what "silent for N days" measures. */
    lastActivityAt: { type: Date },
    syncedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
contactSchema.index({ lastActivityAt: 1 });
contactSchema.index({ unionId: 1 }, { partialFilterExpression: { unionId: { $type: 'string' } } });
contactSchema.index({ phone: 1 }, { partialFilterExpression: { phone: { $type: 'string' } } });
contactSchema.index({ phones: 1 });
contactSchema.index({ nameCompanyKey: 1 }, { partialFilterExpression: { nameCompanyKey: { $type: 'string' } } });
contactSchema.index({ botContactId: 1 }, { partialFilterExpression: { botContactId: { $type: 'string' } } });
// The customer index re-reads only contacts whose updatedAt moved.
contactSchema.index({ updatedAt: 1 });

/** A rep ↔ contact relation (WeCom's follow_user), with its channel and its WeCom tags. */
const followRelationSchema = new Schema(
  {
    externalUserId: { type: String, required: true },
    userId: { type: String, required: true },
    /** active = friends; pending = half-added, not confirmed; lost = the customer deleted the rep; deleted = the rep deleted the customer. */
    status: { type: String, enum: ['pending', 'active', 'lost', 'deleted', 'transferred'], default: 'active' },
    remark: { type: String, default: '' },
    description: { type: String, default: '' },
    remarkMobiles: { type: [String], default: [] },
    /** The 联系我 channel `state` the contact came through. */
    state: { type: String, default: null },
    addWay: { type: Number, default: null },
    enteredAt: { type: Date },
    addedAt: { type: Date, default: null },
    removedAt: { type: Date, default: null },
    tagIds: { type: [String], default: [] },
    /** Who told us of the relation: WeCom owns its relations (an import only fills their blanks); 'import' ones an import may correct. */
    origin: { type: String, enum: ['wecom', 'import'], default: 'wecom' },
  },
  { timestamps: true },
);
followRelationSchema.index({ externalUserId: 1, userId: 1 }, { unique: true });
followRelationSchema.index({ userId: 1, status: 1 });
followRelationSchema.index({ state: 1 });
// The analytics mirror re-reads only relations whose updatedAt moved.
followRelationSchema.index({ updatedAt: 1 });

/** WeCom corp tags mirrored locally, plus tags that exist only here (origin 'local'). */
const tagSchema = new Schema(
  {
    tagId: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    groupId: { type: String, required: true },
    groupName: { type: String, required: true },
    /** WeCom's order of the tag within its group, and of the group among groups (larger first, as WeCom shows them). */
    order: { type: Number, default: 0 },
    groupOrder: { type: Number, default: 0 },
    origin: { type: String, enum: ['wecom', 'local'], default: 'wecom' },
  },
  { timestamps: true },
);
tagSchema.index({ groupId: 1 });

/** Everything that happened to a contact, newest first: the raw material for the sidebar, scoring and analytics. */
const timelineEventSchema = new Schema({
  externalUserId: { type: String, required: true },
  at: { type: Date, required: true },
  kind: { type: String, required: true },
  userId: { type: String, default: null },
  /** Unique per real-world occurrence, so replays of one callback never add it twice. */
  key: { type: String, required: true, unique: true },
  data: { type: Schema.Types.Mixed, default: {} },
});
timelineEventSchema.index({ externalUserId: 1, at: -1 });

const groupMemberSchema = new Schema(
  {
    userId: { type: String, required: true },
    /** 1 = corp member, 2 = external contact. */
    type: { type: Number, required: true },
    unionId: { type: String, default: null },
    name: { type: String, default: '' },
    joinTime: { type: Date, default: null },
    joinScene: { type: Number, default: null },
    invitor: { type: String, default: null },
  },
  { _id: false },
);

const customerGroupSchema = new Schema(
  {
    chatId: { type: String, required: true, unique: true },
    name: { type: String, default: '' },
    owner: { type: String, default: '' },
    notice: { type: String, default: '' },
    adminList: { type: [String], default: [] },
    createdAtWecom: { type: Date, default: null },
    status: { type: String, enum: ['active', 'dismissed'], default: 'active' },
    /** wecom: a WeCom customer group; bot: a personal-WeChat room the bot is in (chatId `bot:<room id>`). */
    origin: { type: String, enum: ['wecom', 'bot'], default: 'wecom' },
    /** The bot's room for this group: a WeCom group the bot account is in (same name), or the bot-only room itself. */
    botRoomId: { type: String, default: null },
    members: { type: [groupMemberSchema], default: [] },
    memberCount: { type: Number, default: 0 },
    syncedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
customerGroupSchema.index({ owner: 1 });
customerGroupSchema.index({ 'members.userId': 1 });
customerGroupSchema.index({ botRoomId: 1 }, { partialFilterExpression: { botRoomId: { $type: 'string' } } });
// The customer index re-reads only groups whose updatedAt moved.
customerGroupSchema.index({ updatedAt: 1 });

/**
 * One dated spend on a channel (a month, a campaign): `amount` yuan spent over the calendar days
 * [from, to) — `from` inclusive, `to` EXCLUSIVE, like the analytics period `?from&to` (November is
 * from 2025-11-01 to 2025-12-01). Both are calendar dates stored as UTC midnight of that date;
 * analytics reads them as midnights on the business clock. Entries may overlap (a monthly fee and a
 * campaign): each counts.
 */
const channelCostSchema = new Schema(
  {
    from: { type: Date, required: true },
    to: { type: Date, required: true },
    amount: { type: Number, required: true, min: 0 },
    note: { type: String, default: '' },
  },
  { _id: false },
);

/** A 联系我 channel: contacts arriving with its `state` get its tags automatically. */
const channelSchema = new Schema(
  {
    state: { type: String, required: true, unique: true, maxlength: 30 },
    name: { type: String, required: true },
    tagIds: { type: [String], default: [] },
    configId: { type: String, default: null },
    qrCode: { type: String, default: null },
    /**
     * Undated spend on this channel, in yuan: counted whole in every period, and only while the
     * channel has no dated `costs` (channels and API callers from before dated costs).
     */
    cost: { type: Number, default: 0 },
    /** Dated spend: a period's cost is each entry prorated by the days it shares with the period. */
    costs: { type: [channelCostSchema], default: [] },
  },
  { timestamps: true },
);

/**
 * A rep (WeCom member with 客户联系) the pool knows: from WeCom's directory, or a placeholder an
 * operator let an import create for a follow_userid WeCom has not told us of (yet).
 */
const repSchema = new Schema(
  {
    userId: { type: String, required: true, unique: true },
    placeholder: { type: Boolean, default: false },
  },
  { timestamps: true },
);

/** Raised when a customer deletes a rep (del_follow_user): the churn signal a rep must see. */
const churnAlertSchema = new Schema(
  {
    externalUserId: { type: String, required: true },
    userId: { type: String, required: true },
    at: { type: Date, required: true },
    key: { type: String, required: true, unique: true },
    status: { type: String, enum: ['open', 'acknowledged'], default: 'open' },
    /** The plan an operator enrolled the customer in to win them back, and when. */
    wonBack: { type: new Schema({ planId: { type: Schema.Types.ObjectId, required: true }, at: { type: Date, required: true } }, { _id: false }), default: null },
  },
  { timestamps: true },
);
churnAlertSchema.index({ userId: 1, status: 1 });

export type Contact = InferSchemaType<typeof contactSchema>;
export type FollowRelation = InferSchemaType<typeof followRelationSchema>;
export type Tag = InferSchemaType<typeof tagSchema>;
export type TimelineEvent = InferSchemaType<typeof timelineEventSchema>;
export type CustomerGroup = InferSchemaType<typeof customerGroupSchema>;
export type GroupMember = InferSchemaType<typeof groupMemberSchema>;
export type Channel = InferSchemaType<typeof channelSchema>;
export type ChurnAlert = InferSchemaType<typeof churnAlertSchema>;
export type Rep = InferSchemaType<typeof repSchema>;

export interface ContactModels {
  Contact: Model<Contact>;
  FollowRelation: Model<FollowRelation>;
  Tag: Model<Tag>;
  TimelineEvent: Model<TimelineEvent>;
  CustomerGroup: Model<CustomerGroup>;
  Channel: Model<Channel>;
  ChurnAlert: Model<ChurnAlert>;
  Rep: Model<Rep>;
}

export function registerContactModels(connection: Connection): ContactModels {
  return {
    Contact: connection.model('Contact', contactSchema, 'contacts'),
    FollowRelation: connection.model('FollowRelation', followRelationSchema, 'follow_relations'),
    Tag: connection.model('Tag', tagSchema, 'tags'),
    TimelineEvent: connection.model('TimelineEvent', timelineEventSchema, 'timeline_events'),
    CustomerGroup: connection.model('CustomerGroup', customerGroupSchema, 'customer_groups'),
    Channel: connection.model('Channel', channelSchema, 'channels'),
    ChurnAlert: connection.model('ChurnAlert', churnAlertSchema, 'churn_alerts'),
    Rep: connection.model('Rep', repSchema, 'reps'),
  };
}
