import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';
import { withWorkFields, type WorkFields } from '../queue/index.ts';
import { registerEntryModel, type SopEntry } from './reentry.ts';
import type { ReentryRule, SopJourney } from './templates/schema.ts';

/** Who a plan reaches: contacts matching every given criterion (an empty list = no restriction). */
const audienceSchema = new Schema(
  {
    /** Tag names (WeCom corp tags, as operators see them). */
    tags: { type: [String], default: [] },
    /** Channel `state`s the contact came through. */
    channels: { type: [String], default: [] },
    /** Reps whose customers are included. */
    reps: { type: [String], default: [] },
    /** Customer group chat ids, for group-target plans. */
    groups: { type: [String], default: [] },
    /** Lifecycle stages (new, first_purchase, repeat, dormant, churn_risk) at enrolment time. */
    stages: { type: [String], default: [] },
    /** Lead score bounds (0–100, inclusive), as the sidebar computes it; null = no bound. */
    minScore: { type: Number, default: null },
    maxScore: { type: Number, default: null },
    /** A saved customer segment (its id): asked when a slot enrols and again before each step, never frozen. */
    segment: { type: String, default: null },
  },
  { _id: false },
);

/** A plan: a journey put to work on an audience, in a time zone, switched on or off. */
const planSchema = new Schema(
  {
    name: { type: String, required: true },
    /** The template the plan started from; null for a journey written inline. */
    templateId: { type: String, default: null },
    /**
     * The plan's current journey (stored as `template`, the name it had when it could only be a copy
     * of a template file): editing a file never changes running journeys, and editing the journey
     * makes a new version (sop_plan_versions keeps every version).
     */
    template: { type: Schema.Types.Mixed, required: true },
    /** The current journey's version; a plan made before versions existed is at 1. */
    version: { type: Number, default: 1 },
    audience: { type: audienceSchema, default: () => ({}) },
    timeZone: { type: String, required: true },
    /** Overrides of the template's quiet hours and catch-up policy for this plan (null = the template's). */
    quietHours: { type: Schema.Types.Mixed, default: null },
    catchUp: { type: Schema.Types.Mixed, default: null },
    /** A marketing step the frequency cap stops: moved to the next day the cap allows (within catch-up), or not sent. */
    capPolicy: { type: String, enum: ['defer', 'drop'], default: 'defer' },
    /** How often one target may start the journey (null = the trigger's default, see reentryRule). */
    reentry: { type: Schema.Types.Mixed, default: null },
    enabled: { type: Boolean, default: false },
    builtIn: { type: Boolean, default: false },
    /** Set on built-in plans, unique, so concurrent start-ups create each once. */
    builtInKey: { type: String },
    /** Schedule triggers: occurrences up to this minute have been enrolled. */
    scheduledThrough: { type: Date, default: null },
  },
  { timestamps: true },
);
planSchema.index({ enabled: 1 });

/**
 * Counts writes to plans through mongoose in this process, so a PlanCache drops what it holds at
 * once after an edit here (another instance's edits reach it when its entries expire).
 */
let planWrites = 0;
export const planWriteCount = () => planWrites;
const countPlanWrite = () => void planWrites++;
planSchema.post('save', countPlanWrite);
planSchema.post(['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndDelete'], countPlanWrite);
planSchema.post('insertMany', countPlanWrite);
planSchema.index({ builtInKey: 1 }, { unique: true, partialFilterExpression: { builtInKey: { $type: 'string' } } });

/** One target's journey through one plan, once per occurrence (an add event, a schedule slot...). */
const enrollmentSchema = new Schema(
  {
    key: { type: String, required: true, unique: true },
    planId: { type: Schema.Types.ObjectId, required: true },
    targetKind: { type: String, enum: ['contact', 'group'], required: true },
    targetId: { type: String, required: true },
    /** The rep whose relation the journey runs through (sender of mass sends, owner of tasks). */
    userId: { type: String, default: null },
    occurrence: { type: String, required: true },
    status: { type: String, enum: ['active', 'completed', 'exited'], default: 'active' },
    enrolledAt: { type: Date, required: true },
    currentStep: { type: String, default: null },
    /** The plan version whose journey this enrolment follows (a legacy enrolment without it started on 1). */
    version: { type: Number, default: 1 },
    /** Why an exited enrolment stopped before its journey's end, for the execution view. */
    exitReason: { type: String, default: null },
    /** Facts from the trigger a step may need (the 20-second welcome code, the channel state). */
    context: { type: Schema.Types.Mixed, default: {} },
  },
  { timestamps: true },
);
enrollmentSchema.index({ planId: 1, status: 1 });
enrollmentSchema.index({ targetId: 1 });

export type JobOutcome =
  | 'sent'
  | 'task_created'
  | 'tagged'
  | 'branched'
  | 'capped'
  /** A variable the text uses has no value for this contact and no default: held back, never sent broken. */
  | 'held_missing_variable'
  | 'opted_out'
  | 'skipped_late'
  | 'code_expired'
  | 'chat_started'
  | 'no_welcome_code'
  | 'no_relation'
  | 'bot_unavailable'
  | 'exited'
  | 'plan_disabled'
  | 'failed';

export interface SopJob extends WorkFields {
  key: string;
  planId: Types.ObjectId;
  enrollmentId: Types.ObjectId;
  stepId: string;
  targetId: string;
  /** The plan version whose journey the step belongs to (absent on jobs from before versions: 1). */
  version?: number;
  /** When the step was meant to run; runAt moves (quiet hours, retries), dueAt does not. */
  dueAt: Date;
  outcome?: JobOutcome | null;
  detail?: Record<string, unknown> | null;
}

const jobSchema = withWorkFields(
  new Schema<SopJob>(
    {
      key: { type: String, required: true, unique: true },
      planId: { type: Schema.Types.ObjectId, required: true },
      enrollmentId: { type: Schema.Types.ObjectId, required: true },
      stepId: { type: String, required: true },
      targetId: { type: String, required: true },
      version: { type: Number, default: 1 },
      dueAt: { type: Date, required: true },
      outcome: { type: String, default: null },
      detail: { type: Schema.Types.Mixed, default: null },
    },
    { timestamps: true },
  ),
);
jobSchema.index({ planId: 1 });
jobSchema.index({ targetId: 1 });

/**
 * Every message that leaves for a customer, keyed by the job that sent it. Written before the call
 * to WeCom, so a job resumed after a crash knows a send was already attempted; counted per contact
 * and local day for the frequency cap.
 */
const sendSchema = new Schema(
  {
    key: { type: String, required: true, unique: true },
    targetId: { type: String, required: true },
    day: { type: String, required: true },
    marketing: { type: Boolean, required: true },
    channel: { type: String, enum: ['welcome', 'mass_send', 'bot'], required: true },
    state: { type: String, enum: ['sending', 'sent', 'failed'], default: 'sending' },
    at: { type: Date, required: true },
    msgid: { type: String, default: null },
    text: { type: String, default: '' },
    /** `${targetId}:${day}:${n}` for marketing sends: one of the contact's N slots for that day. */
    capSlot: { type: String },
    /** The rep a mass-send task was created for (who must confirm it in the client). */
    sender: { type: String, default: null },
    /** Mass sends: what WeCom reports after the task was created — the rep confirmed it, or why not. */
    /** `unreadable`: WeCom refused to say, MAX_READ_FAILURES times (readError says why). */
    delivery: { type: String, enum: ['pending', 'delivered', 'not_friend', 'already_received', 'unreadable', null], default: null },
    deliveredAt: { type: Date, default: null },
    checkedAt: { type: Date, default: null },
    /** Read-back failures in a row, the last one's reason, and when to ask again (backing off). */
    readFailures: { type: Number, default: 0 },
    readError: { type: String, default: null },
    nextCheckAt: { type: Date, default: null },
  },
  { timestamps: true },
);
sendSchema.index({ targetId: 1, day: 1 });
sendSchema.index({ delivery: 1, checkedAt: 1 });
sendSchema.index({ capSlot: 1 }, { unique: true, partialFilterExpression: { capSlot: { $type: 'string' } } });

/** Every journey a plan has had, immutable once written: enrolments finish on the version they started. */
const planVersionSchema = new Schema(
  {
    planId: { type: Schema.Types.ObjectId, required: true },
    version: { type: Number, required: true },
    journey: { type: Schema.Types.Mixed, required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false } },
);
planVersionSchema.index({ planId: 1, version: 1 }, { unique: true });

/** Journeys operators saved as templates; listed with the built-in YAML library. */
const userTemplateSchema = new Schema(
  {
    templateId: { type: String, required: true, unique: true },
    journey: { type: Schema.Types.Mixed, required: true },
  },
  { timestamps: true },
);

export type Plan = Omit<InferSchemaType<typeof planSchema>, 'template' | 'quietHours' | 'catchUp' | 'reentry'> & {
  template: SopJourney;
  reentry: ReentryRule | null;
  quietHours: SopJourney['quietHours'] | null;
  catchUp: SopJourney['catchUp'] | null;
};
export type PlanVersion = Omit<InferSchemaType<typeof planVersionSchema>, 'journey'> & { journey: SopJourney; createdAt: Date };
export type UserTemplate = Omit<InferSchemaType<typeof userTemplateSchema>, 'journey'> & { journey: SopJourney };

/** The guardrail settings in force for a plan: its own overrides, else those of the journey being run. */
export function planSettings(plan: Pick<Plan, 'template' | 'quietHours' | 'catchUp'>, journey: Pick<SopJourney, 'quietHours' | 'catchUp'> = plan.template) {
  return { quietHours: plan.quietHours ?? journey.quietHours, catchUp: plan.catchUp ?? journey.catchUp };
}
export type Enrollment = InferSchemaType<typeof enrollmentSchema>;
export type SendRecord = InferSchemaType<typeof sendSchema>;

export interface SopModels {
  Plan: Model<Plan>;
  Enrollment: Model<Enrollment>;
  Job: Model<SopJob>;
  Send: Model<SendRecord>;
  PlanVersion: Model<PlanVersion>;
  UserTemplate: Model<UserTemplate>;
  /** Which occurrence holds each target's entry into a plan (the re-entry rule). */
  Entry: Model<SopEntry>;
}

export function registerSopModels(connection: Connection): SopModels {
  return {
    Plan: connection.model<Plan>('SopPlan', planSchema, 'sop_plans'),
    Enrollment: connection.model('SopEnrollment', enrollmentSchema, 'sop_enrollments'),
    Job: connection.model<SopJob>('SopJob', jobSchema, 'sop_jobs'),
    Send: connection.model('SopSend', sendSchema, 'sop_sends'),
    PlanVersion: connection.model<PlanVersion>('SopPlanVersion', planVersionSchema, 'sop_plan_versions'),
    UserTemplate: connection.model<UserTemplate>('SopUserTemplate', userTemplateSchema, 'sop_user_templates'),
    Entry: registerEntryModel(connection),
  };
}
