import mongoose, { type HydratedDocument } from 'mongoose';
import type { ContactPool } from '../contacts/index.ts';
import type { Logger } from '../observability/index.ts';
import { PermanentFailure, QueueWorker, workFieldsFor, type WorkerOptions } from '../queue/index.ts';
import { WecomError, type WecomClient } from '../wecom/index.ts';
import { targetKey, type AudienceTarget, type BulkTagJob, type BulkTagModels, type BulkTagTarget } from './bulk-models.ts';

/** The customers module's audience: each matching customer once, with the reps of their active relations. */
export type ResolveAudience = (target: AudienceTarget) => AsyncIterable<{ externalUserId: string; userIds: string[] }>;

/** Queue tuning; tests shorten the waits. */
export type BulkWorkerTuning = Partial<Pick<WorkerOptions<BulkTagTarget>, 'concurrency' | 'pollMs' | 'leaseMs' | 'backoffMs' | 'maxAttempts'>>;

export interface BulkTaggingDeps {
  models: BulkTagModels;
  pool: Pick<ContactPool, 'changeFollowTags'>;
  client: Pick<WecomClient, 'tags'>;
  resolveAudience: ResolveAudience;
  logger: Logger;
  now?: () => Date;
  worker?: BulkWorkerTuning;
}

export type BulkTagJobStatus = 'preparing' | 'running' | 'done' | 'failed';

export interface BulkTagJobView {
  id: string;
  status: BulkTagJobStatus;
  target: AudienceTarget;
  add: string[];
  remove: string[];
  total: number;
  done: number;
  failed: number;
  errors: Array<{ externalUserId: string; userId: string; message: string }>;
  /** Why the audience could not be read (status failed). */
  error: string | null;
  createdAt: Date | null;
}

/** Targets are written this many at a time while the audience is read, and the marking starts after each batch. */
const EXPAND_BATCH = 200;
/** The view lists this many failed relations; `failed` counts them all. */
const ERRORS_SHOWN = 100;
/** Reading a large audience takes a while; a shorter lease would let a second instance start the same expansion. */
const EXPAND_LEASE_MS = 10 * 60_000;

/**
 * Bulk add/remove of tags on a segment or filter. A job is expanded into one queue item per
 * (customer, rep) relation, keyed by job and relation, so each relation is marked once however
 * often the audience lists it; both queues are leased, so a restarted (or second) instance goes
 * on where the first stopped. WeCom's busy answers are retried with backoff (the client's own,
 * then the queue's); a refusal for one relation (no relation any more, unknown customer) is
 * recorded on that relation and the others go on.
 */
export class BulkTagging {
  private readonly expander: QueueWorker<BulkTagJob>;
  private readonly marker: QueueWorker<BulkTagTarget>;
  private readonly now: () => Date;
  /** A job's tags never change after it is created, so each marking need not read them again. */
  private readonly specs = new Map<string, { add: string[]; remove: string[] }>();

  constructor(private readonly deps: BulkTaggingDeps) {
    this.now = deps.now ?? (() => new Date());
    const common = { logger: deps.logger, now: this.now, ...deps.worker };
    this.expander = new QueueWorker<BulkTagJob>({
      ...common,
      name: 'bulk-tag-jobs',
      model: deps.models.Job,
      concurrency: 1,
      leaseMs: EXPAND_LEASE_MS,
      handle: (job) => this.expand(job),
    });
    this.marker = new QueueWorker<BulkTagTarget>({ ...common, name: 'bulk-tag-targets', model: deps.models.Target, handle: (target) => this.mark(target) });
  }

  async init(): Promise<void> {
    await Promise.all([this.deps.models.Job.init(), this.deps.models.Target.init()]);
  }

  start(): void {
    this.expander.start();
    this.marker.start();
  }

  /** Lets the markings in flight finish; the rest wait in the store for the next start. */
  async stop(): Promise<void> {
    await Promise.all([this.expander.stop(), this.marker.stop()]);
  }

  /** Checks the audience can be read (an unknown segment or a bad filter fails here, as a 4xx), then queues the job. */
  async create(input: { target: AudienceTarget; add: string[]; remove: string[] }): Promise<BulkTagJobView> {
    const members = this.deps.resolveAudience(input.target)[Symbol.asyncIterator]();
    try {
      await members.next();
    } finally {
      await members.return?.();
    }
    const job = await this.deps.models.Job.create({ target: input.target, addTagIds: input.add, removeTagIds: input.remove, expandedAt: null, ...workFieldsFor(this.now()) });
    this.expander.kick();
    return (await this.view(String(job._id)))!;
  }

  async view(id: string): Promise<BulkTagJobView | null> {
    const { Job, Target } = this.deps.models;
    const job = await Job.findById(id).lean();
    if (!job) return null;
    const [counts, dead] = await Promise.all([
      Target.aggregate<{ _id: string; n: number }>([{ $match: { jobId: id } }, { $group: { _id: '$status', n: { $sum: 1 } } }]),
      Target.find({ jobId: id, status: 'dead' }, { externalUserId: 1, userId: 1, lastError: 1 }).sort({ finishedAt: 1 }).limit(ERRORS_SHOWN).lean(),
    ]);
    const count = (status: string) => counts.find((c) => c._id === status)?.n ?? 0;
    const total = counts.reduce((sum, c) => sum + c.n, 0);
    const open = count('pending') + count('running');
    return {
      id,
      status: job.status === 'dead' ? 'failed' : job.status !== 'done' ? 'preparing' : open > 0 ? 'running' : 'done',
      target: job.target,
      add: job.addTagIds,
      remove: job.removeTagIds,
      total,
      done: count('done'),
      failed: count('dead'),
      errors: dead.map((t) => ({ externalUserId: t.externalUserId, userId: t.userId, message: t.lastError ?? 'failed' })),
      error: job.status === 'dead' ? (job.lastError ?? 'failed') : null,
      createdAt: job.createdAt ?? null,
    };
  }

  /** Reads the audience into targets; rerun after a crash, the keys make it add only what is missing. */
  private async expand(job: HydratedDocument<BulkTagJob>): Promise<void> {
    const jobId = String(job._id);
    let batch: Array<{ externalUserId: string; userId: string }> = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await this.deps.models.Target.bulkWrite(
        batch.map((r) => {
          const key = targetKey(jobId, r.externalUserId, r.userId);
          return { updateOne: { filter: { key }, update: { $setOnInsert: { jobId, ...r, key, ...workFieldsFor(this.now()) } }, upsert: true } };
        }),
        { ordered: false },
      );
      batch = [];
      this.marker.kick();
    };
    try {
      for await (const member of this.deps.resolveAudience(job.target)) {
        for (const userId of new Set(member.userIds)) {
          batch.push({ externalUserId: member.externalUserId, userId });
          if (batch.length >= EXPAND_BATCH) await flush();
        }
      }
    } catch (err) {
      // A segment deleted since, or a filter the customers module now refuses, will not read better later.
      if (isClientError(err)) throw new PermanentFailure(err instanceof Error ? err.message : String(err), { cause: err });
      throw err;
    }
    await flush();
    await this.deps.models.Job.updateOne({ _id: job._id }, { $set: { expandedAt: this.now() } });
  }

  private async mark(target: HydratedDocument<BulkTagTarget>): Promise<void> {
    const { add, remove } = await this.spec(target.jobId);
    try {
      await this.deps.client.tags.mark({ userid: target.userId, external_userid: target.externalUserId, add_tag: add, remove_tag: remove });
    } catch (err) {
      // Busy and transport failures come back to the queue (retried with backoff); a refusal is this relation's answer.
      if (err instanceof WecomError && !err.retryable) throw new PermanentFailure(err.message, { cause: err });
      throw err;
    }
    await this.deps.pool.changeFollowTags({
      externalUserId: target.externalUserId,
      userId: target.userId,
      add,
      remove,
      at: this.now(),
      key: `bulk-tags:${target.key}`,
    });
  }

  private async spec(jobId: string): Promise<{ add: string[]; remove: string[] }> {
    let spec = this.specs.get(jobId);
    if (!spec) {
      const job = await this.deps.models.Job.findById(jobId, { addTagIds: 1, removeTagIds: 1 }).lean();
      if (!job) throw new PermanentFailure(`bulk tag job ${jobId} is gone`);
      this.specs.set(jobId, (spec = { add: job.addTagIds, remove: job.removeTagIds }));
    }
    return spec;
  }
}

function isClientError(err: unknown): boolean {
  const status = (err as { status?: unknown } | null)?.status;
  return (typeof status === 'number' && status >= 400 && status < 500) || (err as Error | null)?.name === 'ZodError';
}

export const isJobId = (id: string) => mongoose.isValidObjectId(id) && /^[0-9a-f]{24}$/i.test(id);
