import type { Document } from 'mongodb';
import mongoose, { type HydratedDocument, type Types } from 'mongoose';
import { schedule, type ScheduledTask } from 'node-cron';
import { Counter } from 'prom-client';
import type { HealthProbe, Logger, Metrics } from '../observability/index.ts';
import { DeferWork, PermanentFailure, QueueWorker, workFieldsFor } from '../queue/index.ts';
import { UpdateBatches } from '../store/index.ts';
import type { ContactAdded, NewContactFacts } from '../wecom/index.ts';
import { insertAbsent } from './bulk-insert.ts';
import { computedStanding, conditionHolds, standingMatches, tagIdsByName, type StandingOf } from './conditions.ts';
import { planSettings, type Enrollment, type Plan, type SopJob } from './models.ts';
import { StepRunner, type KnownContact, type StepDeps } from './steps.ts';
import { applyDelay, scheduleSlots } from './time.ts';
import { trackMassSends } from './tracking.ts';
import { admitEntries, reentryRule } from './reentry.ts';
import { resolveWelcome } from './welcome-choice.ts';
import type { SopStep } from './templates/schema.ts';
import { JourneyVersions } from './versions.ts';
import { PlanCache } from './plan-cache.ts';

export interface EngineOptions extends Omit<StepDeps, 'standing'> {
  /** Stage in force and lead score (the customers module, main.ts); absent = computed stage, score 0. */
  standing?: StandingOf;
  metrics: Metrics;
  now?: () => Date;
  /** How far back a schedule trigger catches up after downtime. */
  scheduleLookbackHours?: number;
  worker?: { concurrency?: number; claimBatch?: number; pollMs?: number; leaseMs?: number };
  /** Segment membership, from the customers module (main.ts); without it a plan naming a segment reaches nobody. */
  segmentHas?: (segmentId: string, externalUserId: string) => Promise<boolean>;
  segmentAudience?: (segmentId: string) => AsyncIterable<{ externalUserId: string }>;
  /** Whether this instance runs the minute tick now (lease `sop-tick` in main.ts); absent = always. */
  isLeader?: () => boolean;
}

export interface Target {
  kind: 'contact' | 'group';
  id: string;
  userId: string | null;
}

const MINUTE = 60_000;
/** Enrolments (and then jobs) per unordered bulk write. */
const BULK = 5_000;
/**
 * Steps in flight per instance. A send spends most of its time waiting (the store, WeCom), and the
 * more finish together the more of their writes share a round trip (UpdateBatches): 16 dispatched
 * ~300 sends/s on two cores, 64 ~560/s. The WeCom client's rate limiter still bounds the calls.
 */
const SOP_CONCURRENCY = 64;

/** Whether an audience asks for a stage or a score, which only the contact's standing answers. */
const byStanding = (audience: { stages?: string[] | null; minScore?: number | null; maxScore?: number | null }) =>
  (audience.stages?.length ?? 0) > 0 || audience.minScore != null || audience.maxScore != null;

/** A step job's unique key: one job per (plan, step, target, occurrence). */
const jobKey = (planId: Types.ObjectId, stepId: string, targetId: string, occurrence: string) => `${planId}:${stepId}:${targetId}:${occurrence}`;

export type EnrolEntry = { target: Target; occurrence: string; at: Date; context?: Record<string, unknown> };

async function* inBatches<T>(items: T[]): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += BULK) yield items.slice(i, i + BULK);
}

type JobSource = { _id: Types.ObjectId; targetId: string; occurrence: string; version?: number | null };

/** A new step job's own fields (the work fields aside). */
function jobFields(plan: HydratedDocument<Plan>, enrollment: JobSource, step: SopStep, from: Date) {
  const dueAt = applyDelay(from, step.after, plan.timeZone);
  return {
    key: jobKey(plan._id, step.id, enrollment.targetId, enrollment.occurrence),
    planId: plan._id,
    enrollmentId: enrollment._id,
    stepId: step.id,
    targetId: enrollment.targetId,
    version: enrollment.version ?? 1,
    dueAt,
  };
}

/** The keyed insert-if-absent of a step's job. */
function jobUpsert(plan: HydratedDocument<Plan>, enrollment: JobSource, step: SopStep, from: Date) {
  const { key, ...fields } = jobFields(plan, enrollment, step, from);
  return {
    filter: { key },
    update: { $setOnInsert: { ...fields, runAt: fields.dueAt, status: 'pending', attempts: 0 } },
    upsert: true,
  };
}

/**
 * Runs SOP plans: enrols targets when a trigger fires, turns each step occurrence into a job with a
 * unique key (plan, step, target, occurrence), and executes due jobs through a leased queue — so any
 * number of instances sharing one store run each step exactly once.
 */
export class SopEngine {
  readonly worker: QueueWorker<SopJob>;
  /** Executes steps; the operator API renders dry runs with it too, sharing its rep-name cache. */
  readonly runner: StepRunner;
  /** The journeys of every version; the operator API replaces journeys through it. */
  readonly versions: JourneyVersions;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly plans: PlanCache;
  private readonly standing: StandingOf;
  /** What prepare() read for claimed jobs, by job id, taken by handle(). */
  private readonly prepared = new Map<string, { enrollment: HydratedDocument<Enrollment>; known: KnownContact | undefined }>();
  private readonly outcomes: Counter<'plan' | 'step' | 'outcome'>;
  private readonly deliveries: Counter<'status'>;
  private readonly reentryRefused: Counter<'plan'>;
  private ticker: ScheduledTask | undefined;
  /** A finished step's writes (the next step's job, the enrolment's progress), grouped across the jobs finishing together. */
  private readonly jobUpdates: UpdateBatches<SopJob>;
  private readonly enrollmentUpdates: UpdateBatches<Enrollment>;

  constructor(private readonly opts: EngineOptions) {
    this.jobUpdates = new UpdateBatches(opts.models.Job);
    this.enrollmentUpdates = new UpdateBatches(opts.models.Enrollment);
    this.now = opts.now ?? (() => new Date());
    this.log = opts.logger.child({ module: 'sop' });
    this.standing = opts.standing ?? computedStanding(opts.contacts);
    this.runner = new StepRunner({ ...opts, standing: this.standing });
    this.versions = new JourneyVersions(opts.models);
    this.plans = new PlanCache(opts.models.Plan);
    this.outcomes = new Counter({
      name: 'sop_jobs_total',
      help: 'SOP step jobs finished, by plan, step and outcome (sent, capped, opted_out, failed...)',
      labelNames: ['plan', 'step', 'outcome'],
      registers: [opts.metrics.registry],
    });
    this.deliveries = new Counter({
      name: 'sop_mass_send_checks_total',
      help: 'Mass-send tasks read back from WeCom, by what the rep did (delivered, pending, not_friend, already_received), or read_error / unreadable when WeCom refused to say',
      labelNames: ['status'],
      registers: [opts.metrics.registry],
    });
    this.reentryRefused = new Counter({
      name: 'sop_reentry_refused_total',
      help: 'Enrolments a plan\'s re-entry rule refused (the target had entered within the rule\'s window), by plan',
      labelNames: ['plan'],
      registers: [opts.metrics.registry],
    });
    this.worker = new QueueWorker<SopJob>({
      name: 'sop-jobs',
      model: opts.models.Job,
      logger: this.log,
      now: this.now,
      // A step is mostly waiting on the store and WeCom, so many run at once; they are claimed a
      // batch at a time, so a 100,000-job slot is not 100,000 claim round trips.
      concurrency: opts.worker?.concurrency ?? SOP_CONCURRENCY,
      claimBatch: opts.worker?.claimBatch ?? opts.worker?.concurrency ?? SOP_CONCURRENCY,
      pollMs: opts.worker?.pollMs ?? 1_000,
      leaseMs: opts.worker?.leaseMs ?? 60_000,
      maxAttempts: 6,
      handle: (job) => this.handle(job),
      prepare: (jobs) => this.prepare(jobs),
    });
  }

  start(): void {
    this.worker.start();
    // Schedules are evaluated minute by minute; an instance that was down catches up on its next tick.
    // With several instances one ticks (lease `sop-tick`), or every schedule would enrol N times over.
    const tick = () => (this.leads() ? this.tick() : Promise.resolve()).catch((err: unknown) => this.log.error({ err }, 'SOP tick failed'));
    // A missed minute is harmless (the next tick catches up), so node-cron need not warn about it.
    this.ticker = schedule('* * * * *', tick, {
      name: 'sop-tick',
      noOverlap: true,
      suppressMissedWarning: true,
      logger: {
        info: (message) => this.log.debug(message),
        warn: (message) => this.log.warn(message),
        error: (message, err) => this.log.error({ err: err ?? message }, 'node-cron error'),
        debug: (message) => this.log.debug(String(message)),
      },
    });
    void tick();
  }

  /** For /healthz: the minute tick is alive, and how much work is due or dead-lettered. */
  readonly probe: HealthProbe = {
    name: 'scheduler',
    critical: false,
    check: async () => {
      const now = this.now();
      const [due, dead] = await Promise.all([
        this.opts.models.Job.countDocuments({ runAt: mongoose.trusted({ $lte: now }) }),
        this.opts.models.Job.countDocuments({ status: 'dead' }),
      ]);
      // An instance that does not tick (another holds the lease) is not stale for it.
      const leads = this.leads();
      const stale = leads && this.ticker !== undefined && (this.lastTickAt === null || now.getTime() - this.lastTickAt.getTime() > 3 * MINUTE);
      return { ok: !stale, ticks: leads, lastTickAt: this.lastTickAt, dueJobs: due, deadJobs: dead };
    },
  };
  private lastTickAt: Date | null = null;
  private leads(): boolean {
    return this.opts.isLeader?.() ?? true;
  }

  async stop(): Promise<void> {
    await this.ticker?.destroy();
    await this.worker.stop();
  }

  // --- triggers ------------------------------------------------------------------------------

  /**
   * add_external_contact: enrol into matching contact_added plans; the welcome runs at once (WeCom
   * allows 20 s). After the inbox's welcome lane (welcomeNow) took the code, no plan is handed it
   * again: the welcomer's enrolment is already there under the same key, the others enrol without.
   */
  async onContactAdded(event: ContactAdded): Promise<void> {
    const { enrol, welcomer } = resolveWelcome(await this.contactAddedPlans(event));
    for (const plan of enrol) {
      // The lane enrolled the welcomer already, under the same key.
      if (plan === welcomer && event.welcomeTaken) continue;
      await this.enrolAdded(plan, event, plan === welcomer ? {} : false);
    }
    this.worker.kick();
  }

  /**
   * The welcome lane: enrols only the plan that welcomes and runs its welcome job here and now,
   * under the SOP queue's lease and send ledger, so a second instance or a replay sends nothing
   * more (if the SOP worker claimed the job first, it runs there). Resolves whether a plan took the code.
   */
  async welcomeNow(event: ContactAdded, known: NewContactFacts): Promise<boolean> {
    const { welcomer } = resolveWelcome(await this.contactAddedPlans(event, known.tagIds));
    const first = welcomer?.template.steps[0];
    if (!welcomer || !first || !event.welcomeCode) return false;
    const occurrence = await this.enrolAdded(welcomer, event, { contactName: known.name ?? null, contactCompany: known.company ?? null });
    await this.worker.runNow({ key: jobKey(welcomer._id, first.id, event.externalUserId, occurrence) });
    return true;
  }

  /** `relationTags`: the new relation's tags when the store may not have them yet (the welcome lane). */
  private async contactAddedPlans(event: ContactAdded, relationTags?: string[]): Promise<Array<HydratedDocument<Plan>>> {
    const matching: Array<HydratedDocument<Plan>> = [];
    const relation = relationTags ? { state: event.state, tagIds: relationTags } : undefined;
    for (const plan of await this.plans.enabled('contact_added')) {
      const trigger = plan.template.trigger;
      if (trigger.type !== 'contact_added') continue;
      if (trigger.channels.length > 0 && !trigger.channels.includes(event.state ?? '')) continue;
      if (await this.inAudience(plan, event.externalUserId, event.userId, trigger.tags, relation)) matching.push(plan);
    }
    return matching;
  }

  /**
   * One add event's enrolment in one plan (keyed by the event time, so a replay adds nothing); returns
   * the occurrence. The welcomer's carries the code, and from the lane what WeCom said of the contact.
   */
  private async enrolAdded(plan: HydratedDocument<Plan>, event: ContactAdded, welcome: false | Record<string, unknown>): Promise<string> {
    const occurrence = `added:${event.at.toISOString()}`;
    await this.enrol(plan, { kind: 'contact', id: event.externalUserId, userId: event.userId }, occurrence, {
      ...(welcome ? { ...welcome, welcomeCode: event.welcomeCode, welcomeDeadline: event.welcomeDeadline ?? null } : {}),
      state: event.state,
    });
    return occurrence;
  }

  /** Tags added to a contact: enrol into contact_tagged plans for those tags. */
  async onContactTagged(event: { externalUserId: string; userId: string; tagIds: string[]; at: Date }): Promise<void> {
    for (const plan of await this.plans.enabled('contact_tagged')) {
      const trigger = plan.template.trigger;
      if (trigger.type !== 'contact_tagged') continue;
      const tagId = (await tagIdsByName(this.opts.contacts, [trigger.tag])).get(trigger.tag);
      if (!tagId || !event.tagIds.includes(tagId)) continue;
      if (!(await this.inAudience(plan, event.externalUserId, event.userId, []))) continue;
      await this.enrol(plan, { kind: 'contact', id: event.externalUserId, userId: event.userId }, `tagged:${tagId}:${event.at.toISOString()}`);
    }
    this.worker.kick();
  }

  async onOrderPlaced(event: { externalUserId: string; orderId: string }): Promise<void> {
    for (const plan of await this.plans.enabled('order_placed')) {
      const relation = await this.opts.contacts.FollowRelation.findOne({ externalUserId: event.externalUserId, status: 'active' }).lean();
      if (!(await this.inAudience(plan, event.externalUserId, relation?.userId ?? null, []))) continue;
      await this.enrol(plan, { kind: 'contact', id: event.externalUserId, userId: relation?.userId ?? null }, `order:${event.orderId}`);
    }
    this.worker.kick();
  }

  /** WeCom del_follow_user (the customer deleted the rep): enrols into contact_lost plans, once per loss event. */
  async onContactLost(event: { externalUserId: string; userId: string; at: Date }): Promise<void> {
    for (const plan of await this.plans.enabled('contact_lost')) {
      if (plan.template.trigger.type !== 'contact_lost') continue;
      if (!(await this.inAudience(plan, event.externalUserId, event.userId, []))) continue;
      await this.enrol(plan, { kind: 'contact', id: event.externalUserId, userId: event.userId }, `lost:${event.userId}:${event.at.toISOString()}`);
    }
    this.worker.kick();
  }

  /**
   * A contact's churn score was recomputed: enrols into churn_risk plans whose threshold it crossed
   * upwards. The occurrence is the threshold and the UTC day of the crossing, so a second
   * instance or a repeat computation that still sees the old score the same day adds nothing.
   */
  async onChurnScored(event: { externalUserId: string; previous: number | null; score: number; at: Date }): Promise<void> {
    for (const plan of await this.plans.enabled('churn_risk')) {
      const trigger = plan.template.trigger;
      if (trigger.type !== 'churn_risk') continue;
      if (event.score < trigger.threshold || (event.previous ?? 0) >= trigger.threshold) continue;
      const relation = await this.opts.contacts.FollowRelation.findOne({ externalUserId: event.externalUserId, status: 'active' }).lean();
      if (!(await this.inAudience(plan, event.externalUserId, relation?.userId ?? null, []))) continue;
      const day = event.at.toISOString().slice(0, 10);
      await this.enrol(plan, { kind: 'contact', id: event.externalUserId, userId: relation?.userId ?? null }, `churn:${trigger.threshold}:${day}`, { score: event.score });
    }
    this.worker.kick();
  }

  /** Calendar schedules and "silent for N days": enrols whatever came due since the last tick. */
  async tick(): Promise<void> {
    const now = this.now();
    this.lastTickAt = now;
    for (const plan of await this.enabledPlans('schedule')) await this.runSchedule(plan, now);
    for (const plan of await this.enabledPlans('contact_silent')) await this.enrolSilent(plan, now);
    this.worker.kick();
    const tracked = await trackMassSends({ models: this.opts.models, client: this.opts.client, now });
    for (const [status, n] of Object.entries(tracked)) this.deliveries.inc({ status }, n);
  }

  // --- enrolment and jobs ----------------------------------------------------------------------

  /** Starts a target's journey once per occurrence; a repeat (another instance, a replayed event) is a no-op. */
  async enrol(plan: HydratedDocument<Plan>, target: Target, occurrence: string, context: Record<string, unknown> = {}, at = this.now()): Promise<boolean> {
    return (await this.enrolMany(plan, [{ target, occurrence, at, context }])) === 1;
  }

  /**
   * The same for many targets (a schedule slot reaching 100,000 contacts): enrolments, then their
   * first-step jobs, are inserted in unordered batches under their unique keys, so a rerun or a
   * second instance adds nothing (a duplicate key is "exists already") — also after a crash between
   * the two writes, since each job has its own key. No per-target reads: the enrolment _ids are
   * chosen here, and only enrolments that already existed are read back for their jobs.
   */
  async enrolMany(plan: HydratedDocument<Plan>, entries: EnrolEntry[] | AsyncIterable<EnrolEntry[]>): Promise<number> {
    const first = plan.template.steps[0];
    if (!first) return 0;
    const version = plan.version ?? 1;
    let created = 0;
    // One batch's jobs are written while the next batch's enrolments are, and the next batch is read
    // meanwhile: the store and this process then work at once instead of in turns. A batch's jobs
    // still start only after its enrolments are in.
    let jobsWritten: Promise<unknown> = Promise.resolve();
    const batches = (Array.isArray(entries) ? inBatches(entries) : entries)[Symbol.asyncIterator]();
    let upcoming = batches.next();
    try {
      for (;;) {
        const batch = await upcoming;
        if (batch.done) break;
        upcoming = batches.next();
        // Its failure is thrown where it is awaited; until then it must not count as unhandled.
        upcoming.catch(() => undefined);
        const { created: added, jobs } = await this.enrolBatch(plan, first, version, batch.value);
        created += added;
        await jobsWritten;
        jobsWritten = insertAbsent(this.opts.models.Job.collection, jobs);
        jobsWritten.catch(() => undefined);
      }
    } finally {
      await batches.return?.();
    }
    await jobsWritten;
    return created;
  }

  /** One batch of enrolMany: writes its enrolments, resolves how many are new and their first-step jobs to write. */
  private async enrolBatch(plan: HydratedDocument<Plan>, first: SopStep, version: number, offered: EnrolEntry[]): Promise<{ created: number; jobs: Document[] }> {
    const { Enrollment } = this.opts.models;
    const now = this.now();
    const entries = await this.admitted(plan, offered);
    // Everything mongoose would add (defaults, timestamps), since these go through the driver.
    const docs = entries.map((e) => ({
      _id: new mongoose.Types.ObjectId(),
      key: `${plan._id}:${e.target.id}:${e.occurrence}`,
      planId: plan._id,
      targetKind: e.target.kind,
      targetId: e.target.id,
      userId: e.target.userId,
      occurrence: e.occurrence,
      status: 'active',
      enrolledAt: e.at,
      currentStep: first.id,
      version,
      exitReason: null,
      context: e.context ?? {},
      createdAt: now,
      updatedAt: now,
    }));
    const existed = await insertAbsent(Enrollment.collection, docs);
    // Those keep their stored _id and version (an enrolment moved to a newer version stays there).
    const known = existed.size === 0 ? [] : await Enrollment.find(
      { key: mongoose.trusted({ $in: [...existed].map((k) => docs[k]!.key) }) },
      { _id: 1, key: 1, targetId: 1, occurrence: 1, version: 1 },
    ).lean();
    const at = new Map(docs.map((d) => [d.key, d.enrolledAt]));
    const sources = [...docs.filter((_, k) => !existed.has(k)), ...known];
    const jobs = sources.map((enrollment) => {
      const job = jobFields(plan, enrollment, first, at.get(enrollment.key)!);
      // Object.assign, not spreads: spreading into a literal this wide cost ~20 µs a job (2 s a 100,000 slot).
      return Object.assign(job, workFieldsFor(job.dueAt), { outcome: null, detail: null, createdAt: now, updatedAt: now });
    });
    return { created: docs.length - existed.size, jobs };
  }

  /** The entries the plan's re-entry rule lets in; the others are counted and logged, never enrolled. */
  private async admitted(plan: HydratedDocument<Plan>, entries: EnrolEntry[]): Promise<EnrolEntry[]> {
    // A welcome is per relation: a second rep adding the same customer welcomes them too.
    const perRelation = plan.template.trigger.type === 'contact_added';
    const verdicts = await admitEntries(this.opts.models.Entry.collection, plan, entries.map((e) => ({
      subject: perRelation ? `${e.target.id}:${e.target.userId ?? ''}` : e.target.id,
      targetId: e.target.id,
      occurrence: e.occurrence,
      at: e.at,
    })));
    const refused = verdicts.filter((ok) => !ok).length;
    if (refused === 0) return entries;
    this.reentryRefused.inc({ plan: plan.name }, refused);
    this.log.info({ plan: plan.name, refused, rule: reentryRule(plan) }, 're-entry refused by the plan\'s rule');
    return entries.filter((_, i) => verdicts[i]);
  }

  private async scheduleStep(plan: HydratedDocument<Plan>, enrollment: HydratedDocument<Enrollment>, step: SopStep, from: Date): Promise<void> {
    const { filter, update, upsert } = jobUpsert(plan, enrollment, step, from);
    await this.jobUpdates.updateOne(filter, update, { upsert });
    await this.enrollmentUpdates.updateOne({ _id: enrollment._id }, { $set: { currentStep: step.id } });
  }

  /**
   * A claimed batch's enrolments and its contacts' facts, in one query each, for the jobs to take
   * as they run (a mass send to 100,000 contacts would otherwise read them send by send).
   */
  private async prepare(jobs: Array<HydratedDocument<SopJob>>): Promise<void> {
    const enrollments = await this.opts.models.Enrollment.find({ _id: mongoose.trusted({ $in: jobs.map((j) => j.enrollmentId) }) });
    const byId = new Map(enrollments.map((e) => [String(e._id), e]));
    const contacts = await this.runner.contactFacts([...new Set(enrollments.filter((e) => e.targetKind === 'contact').map((e) => e.targetId))]);
    // Bounded: a batch released on stop is never run here, and its entries must not pile up.
    if (this.prepared.size > 10_000) this.prepared.clear();
    for (const job of jobs) {
      const enrollment = byId.get(String(job.enrollmentId));
      if (enrollment) this.prepared.set(String(job._id), { enrollment, known: contacts.get(enrollment.targetId) });
    }
  }

  /** Resolves the job's outcome, which the worker records with its completion. */
  private async handle(job: HydratedDocument<SopJob>): Promise<Pick<SopJob, 'outcome' | 'detail'>> {
    const { Enrollment } = this.opts.models;
    const prepared = this.prepared.get(String(job._id));
    this.prepared.delete(String(job._id));
    const [plan, enrollment] = await Promise.all([this.plans.byPlanId(job.planId), prepared?.enrollment ?? Enrollment.findById(job.enrollmentId)]);
    if (!plan || !enrollment) throw new PermanentFailure('plan or enrolment no longer exists');
    const finish = (outcome: SopJob['outcome'], detail: Record<string, unknown> = {}) => {
      this.outcomes.inc({ plan: plan.name, step: job.stepId, outcome: outcome ?? 'none' });
      return { outcome, detail };
    };
    const now = this.now();
    if (!plan.enabled) return finish('plan_disabled');
    if (enrollment.status !== 'active') return finish('exited');
    // An enrolment runs on the version it started on (or was moved to), whatever was edited since.
    const journey = await this.versions.journeyOf(plan, enrollment.version ?? 1);
    if (!journey) throw new PermanentFailure(`version ${enrollment.version} of the plan was never recorded`);
    const exitWhen = journey.exitWhen;
    if (exitWhen && enrollment.targetKind === 'contact' &&
      (await conditionHolds({ contacts: this.opts.contacts, standing: this.standing }, exitWhen, { externalUserId: enrollment.targetId, since: enrollment.enrolledAt, now }))) {
      await Enrollment.updateOne({ _id: enrollment._id }, { $set: { status: 'exited' } });
      return finish('exited', { reason: 'exit condition' });
    }
    const segment = plan.audience?.segment;
    if (segment && enrollment.targetKind === 'contact' && !(await this.inSegment(segment, enrollment.targetId))) {
      await Enrollment.updateOne({ _id: enrollment._id }, { $set: { status: 'exited' } });
      return finish('exited', { reason: 'no longer in the audience segment', segmentId: segment });
    }
    const index = journey.steps.findIndex((s) => s.id === job.stepId);
    const step = journey.steps[index];
    if (!step) throw new PermanentFailure(`step ${job.stepId} is not in version ${enrollment.version} of the plan`);

    const lateHours = (now.getTime() - job.dueAt.getTime()) / 3_600_000;
    const { catchUp } = planSettings(plan, journey);
    const result =
      catchUp.policy === 'skip' && lateHours > catchUp.maxLatenessHours
        ? ({ outcome: 'skipped_late', detail: { lateHours: Math.round(lateHours * 10) / 10 } } as const)
        : await this.runner.run({ plan, journey, enrollment, job, step, now, ...(prepared?.known ? { known: prepared.known } : {}) });

    if ('wait' in result) throw new DeferWork(result.wait, result.reason, result.detail ? { detail: result.detail } : {});
    const next = 'goto' in result && result.goto !== undefined
      ? result.goto === null ? undefined : journey.steps.find((s) => s.id === result.goto)
      : journey.steps[index + 1];
    if (next) await this.scheduleStep(plan, enrollment, next, job.dueAt > now ? job.dueAt : now);
    else await this.enrollmentUpdates.updateOne({ _id: enrollment._id }, { $set: { status: 'completed', currentStep: null } });
    return finish(result.outcome, result.detail ?? {});
  }

  // --- audiences and triggers over time -------------------------------------------------------

  private enabledPlans(trigger: string) {
    return this.opts.models.Plan.find({ enabled: true, 'template.trigger.type': trigger });
  }

  /**
   * Whether a contact (through this rep) is in the plan's audience, plus the trigger's own tag filter.
   * `known`: the relation's channel and tags as the caller has them, instead of reading it.
   */
  private async inAudience(
    plan: HydratedDocument<Plan>,
    externalUserId: string,
    userId: string | null,
    extraTags: string[],
    known?: { state: string | null; tagIds: string[] },
  ): Promise<boolean> {
    const audience = plan.audience;
    if (audience?.reps?.length && (!userId || !audience.reps.includes(userId))) return false;
    if (audience?.segment && !(await this.inSegment(audience.segment, externalUserId))) return false;
    if (audience && byStanding(audience) && !standingMatches((await this.standing([externalUserId], this.now())).get(externalUserId), audience)) return false;
    const tagNames = [...(audience?.tags ?? []), ...extraTags];
    const channels = audience?.channels ?? [];
    if (tagNames.length === 0 && channels.length === 0) return true;
    const relation = known ?? (await this.opts.contacts.FollowRelation.findOne({ externalUserId, ...(userId ? { userId } : {}) }).lean());
    if (!relation) return false;
    if (channels.length > 0 && !channels.includes(relation.state ?? '')) return false;
    const ids = await tagIdsByName(this.opts.contacts, tagNames);
    return tagNames.every((name) => ids.has(name) && relation.tagIds.includes(ids.get(name)!));
  }

  /** Contacts (one relation each) or groups a scheduled or batch plan reaches. */
  async audienceTargets(plan: HydratedDocument<Plan>): Promise<Target[]> {
    const targets: Target[] = [];
    for await (const batch of this.audienceBatches(plan)) targets.push(...batch);
    return targets;
  }

  /** The same, read and yielded a batch at a time: a schedule slot may reach 100,000 contacts. */
  async *audienceBatches(plan: HydratedDocument<Plan>): AsyncGenerator<Target[]> {
    const audience = plan.audience ?? { tags: [], channels: [], reps: [], groups: [], stages: [] };
    if (plan.template.target === 'group') {
      const groups = await this.opts.contacts.CustomerGroup.find({
        status: 'active',
        ...(audience.groups.length ? { chatId: mongoose.trusted({ $in: audience.groups }) } : {}),
        ...(audience.reps.length ? { owner: mongoose.trusted({ $in: audience.reps }) } : {}),
      }).lean();
      yield groups.map((g) => ({ kind: 'group', id: g.chatId, userId: g.owner || null }));
      return;
    }
    const tagIds = [...(await tagIdsByName(this.opts.contacts, audience.tags)).values()];
    if (tagIds.length < audience.tags.length) return; // a tag nobody has: nobody matches
    const members = audience.segment ? await this.segmentMembers(audience.segment) : null;
    const relations = this.opts.contacts.FollowRelation.find({
      status: 'active',
      ...(audience.channels.length ? { state: mongoose.trusted({ $in: audience.channels }) } : {}),
      ...(audience.reps.length ? { userId: mongoose.trusted({ $in: audience.reps }) } : {}),
      ...(tagIds.length ? { tagIds: mongoose.trusted({ $all: tagIds }) } : {}),
    }, { _id: 0, externalUserId: 1, userId: 1 }).lean().cursor({ batchSize: BULK }); // only what a target needs
    const seen = new Set<string>();
    let batch: Target[] = [];
    const filtered = async (targets: Target[]) => {
      if (!byStanding(audience) || targets.length === 0) return targets;
      const standings = await this.standing(targets.map((t) => t.id), this.now());
      return targets.filter((t) => standingMatches(standings.get(t.id), audience));
    };
    for await (const r of relations) {
      if (seen.has(r.externalUserId) || (members && !members.has(r.externalUserId))) continue;
      seen.add(r.externalUserId);
      batch.push({ kind: 'contact', id: r.externalUserId, userId: r.userId });
      if (batch.length < BULK) continue;
      yield await filtered(batch);
      batch = [];
    }
    if (batch.length) yield await filtered(batch);
  }

  /** Enrols a plan's whole audience in one occurrence, reading the audience while it writes. */
  async enrolAudience(plan: HydratedDocument<Plan>, occurrence: string, at: Date): Promise<number> {
    const batches = this.audienceBatches(plan);
    return this.enrolMany(plan, (async function* () {
      for await (const targets of batches) yield targets.map((target) => ({ target, occurrence, at }));
    })());
  }

  private inSegment(segmentId: string, externalUserId: string): Promise<boolean> {
    return this.opts.segmentHas ? this.opts.segmentHas(segmentId, externalUserId) : Promise.resolve(false);
  }

  private async segmentMembers(segmentId: string): Promise<Set<string>> {
    const members = new Set<string>();
    if (this.opts.segmentAudience) for await (const member of this.opts.segmentAudience(segmentId)) members.add(member.externalUserId);
    return members;
  }

  private async runSchedule(plan: HydratedDocument<Plan>, now: Date): Promise<void> {
    const trigger = plan.template.trigger;
    if (trigger.type !== 'schedule') return;
    const lookback = (this.opts.scheduleLookbackHours ?? 24 * 7) * 3_600_000;
    const through = Math.floor(now.getTime() / MINUTE) * MINUTE;
    const from = Math.floor(Math.max(plan.scheduledThrough?.getTime() ?? plan.updatedAt.getTime(), through - lookback) / MINUTE) * MINUTE;
    // Slots after the last minute enrolled, so a one-off runs at its minute once, also across restarts.
    for (const slot of scheduleSlots(trigger, plan.timeZone, new Date(from), new Date(through))) {
      await this.enrolAudience(plan, `at:${slot.toISOString()}`, slot);
      this.log.info({ plan: plan.name, occurrence: slot.toISOString() }, 'scheduled SOP occurrence enrolled');
    }
    await this.opts.models.Plan.updateOne({ _id: plan._id }, { $max: { scheduledThrough: new Date(through) } });
  }

  private async enrolSilent(plan: HydratedDocument<Plan>, now: Date): Promise<void> {
    const trigger = plan.template.trigger;
    if (trigger.type !== 'contact_silent') return;
    const cutoff = new Date(now.getTime() - trigger.days * 86_400_000);
    const silent = await this.opts.contacts.Contact.find({ lastActivityAt: mongoose.trusted({ $lte: cutoff }) }, { externalUserId: 1, lastActivityAt: 1 }).lean();
    const eligible = new Set((await this.audienceTargets(plan)).map((t) => `${t.id}\u0000${t.userId ?? ''}`));
    for (const contact of silent) {
      const target = [...eligible].find((e) => e.startsWith(`${contact.externalUserId}\u0000`));
      if (!target) continue;
      // One journey per silent spell: activity moves lastActivityAt and so opens a new occurrence.
      await this.enrol(plan, { kind: 'contact', id: contact.externalUserId, userId: target.split('\u0000')[1] || null }, `silent:${contact.lastActivityAt!.toISOString()}`);
    }
  }
}

