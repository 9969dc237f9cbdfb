import mongoose, { type HydratedDocument } from 'mongoose';
import type { Plan, SopModels } from './models.ts';
import type { SopJourney } from './templates/index.ts';

/** Someone else replaced the journey first: the editor must reload rather than overwrite it. */
export class JourneyConflict extends Error {
  readonly status = 409;
  readonly expose = true;
  readonly code = 'journey_conflict';
}

/** What to do with targets already on their way when the journey is replaced. */
export type Migration = 'keep' | 'move';

const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

/**
 * The versions of plans' journeys. A replacement never edits a journey in place: it adds version
 * N+1, so an enrolment finishes on the version it started (or, moved, continues at the step with the
 * same id), and job keys, which do not name a version, keep any step from being sent twice.
 */
export class JourneyVersions {
  /** Versions are immutable, so one read each is enough. */
  private readonly cache = new Map<string, SopJourney>();

  constructor(private readonly models: SopModels) {}

  /** The journey an enrolment on `version` follows; null when that version was never recorded. */
  async journeyOf(plan: HydratedDocument<Plan>, version: number): Promise<SopJourney | null> {
    if (version === plan.version) return plan.template;
    const key = `${String(plan._id)}:${version}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const stored = await this.models.PlanVersion.findOne({ planId: plan._id, version }).lean();
    if (!stored) return null;
    this.cache.set(key, stored.journey);
    return stored.journey;
  }

  /** Keeps the plan's current journey as its version (plans made before versions existed have none). */
  async record(plan: HydratedDocument<Plan>): Promise<void> {
    await this.models.PlanVersion.updateOne(
      { planId: plan._id, version: plan.version },
      { $setOnInsert: { journey: plan.template, createdAt: plan.createdAt } },
      { upsert: true, timestamps: false },
    );
  }

  /** Makes `journey` the plan's newest version; with 'move', active enrolments continue on it. */
  async replace(plan: HydratedDocument<Plan>, journey: SopJourney, migrate: Migration, now: Date): Promise<HydratedDocument<Plan> | null> {
    const from = plan.version;
    const to = from + 1;
    await this.record(plan);
    try {
      // The unique (planId, version) index makes this the lock: of two concurrent edits one wins.
      await this.models.PlanVersion.create({ planId: plan._id, version: to, journey, createdAt: now });
    } catch (err) {
      if (isDuplicateKey(err)) throw new JourneyConflict(`version ${to} of this plan was just saved by someone else: reload the plan and edit again`);
      throw err;
    }
    const updated = await this.models.Plan.findOneAndUpdate(
      // A plan stored before versions has no version field: it is at 1.
      { _id: plan._id, version: from === 1 ? mongoose.trusted({ $in: [1, null] }) : from },
      { $set: { template: journey, version: to } },
      { returnDocument: 'after' },
    );
    if (updated && migrate === 'move') await this.move(updated, journey, now);
    return updated;
  }

  /**
   * Active enrolments on older versions continue on the newest at the step with the same id; one
   * waiting at a step the new journey no longer has is exited, saying which step was removed.
   */
  private async move(plan: HydratedDocument<Plan>, journey: SopJourney, now: Date): Promise<void> {
    const { Enrollment, Job } = this.models;
    const to = plan.version;
    const stepIds = new Set(journey.steps.map((s) => s.id));
    const older = { planId: plan._id, status: 'active' as const, version: mongoose.trusted({ $ne: to }) };
    const waitingAt = (await Enrollment.distinct('currentStep', older)).filter((s): s is string => typeof s === 'string');
    for (const stepId of waitingAt) {
      const pending = { planId: plan._id, stepId, status: 'pending' as const, version: mongoose.trusted({ $ne: to }) };
      if (stepIds.has(stepId)) {
        await Enrollment.updateMany({ ...older, currentStep: stepId }, { $set: { version: to } });
        await Job.updateMany(pending, { $set: { version: to } });
      } else {
        const reason = `moved to version ${to}, which has no step "${stepId}"`;
        await Enrollment.updateMany({ ...older, currentStep: stepId }, { $set: { status: 'exited', exitReason: reason } });
        await Job.updateMany(pending, { $set: { status: 'done', outcome: 'exited', detail: { reason }, runAt: null, finishedAt: now } });
      }
    }
  }

  /** Newest first, the current one included even when it was never written to sop_plan_versions. */
  async list(plan: HydratedDocument<Plan>) {
    const stored = await this.models.PlanVersion.find({ planId: plan._id }).sort({ version: -1 }).lean();
    const versions = stored.map((v) => ({ version: v.version, createdAt: v.createdAt, journey: v.journey }));
    if (!versions.some((v) => v.version === plan.version)) versions.unshift({ version: plan.version, createdAt: plan.createdAt, journey: plan.template });
    return versions.map(({ version, createdAt, journey }) => ({ version, createdAt, name: journey.name, steps: journey.steps }));
  }
}
