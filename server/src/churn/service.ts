import mongoose from 'mongoose';
import { schedule, type ScheduledTask } from 'node-cron';
import { z } from 'zod';
import type { Logger } from '../observability/index.ts';
import { readCohorts, readFacts, type Cohorts, type FactSources } from './facts.ts';
import type { ChurnScoreModel } from './models.ts';
import { churnScore, type ChurnReason } from './rule.ts';

/** A recomputed score, for the SOP churn_risk trigger (which looks for an upward crossing). */
export interface ChurnScored {
  externalUserId: string;
  previous: number | null;
  score: number;
  at: Date;
}

export interface ChurnView {
  score: number;
  reasons: ChurnReason[];
  computedAt: Date;
}

export interface ChurnRiskDeps extends FactSources {
  model: ChurnScoreModel;
  logger: Logger;
  now?: () => Date;
  /** Called for every score that rose (only a rise can cross a threshold upwards). */
  onScored?: (event: ChurnScored) => Promise<void>;
  /** The daily full run, a 5-field cron in timeZone; default 03:17. */
  dailyCron?: string;
  timeZone?: string;
}

const BATCH = 500;
/** The cohort table is a full scan: it is reused this long between runs. */
const COHORT_TTL_MS = 3_600_000;
const idsSchema = z.array(z.string().min(1).max(128)).max(100_000);
const rangeSchema = z.object({ min: z.number().min(0).max(100).optional(), max: z.number().min(0).max(100).optional() }).strict();

/**
 * Keeps churn_scores current: every contact daily, contacts whose record moved (a message, an order,
 * anything the pool marks as activity) on the minute, and one contact at once on a relation lost.
 */
export class ChurnRisk {
  private readonly now: () => Date;
  private readonly log: Logger;
  private cohorts: { at: number; table: Cohorts } | null = null;
  private watermark: Date | null = null;
  private tasks: ScheduledTask[] = [];

  constructor(private readonly deps: ChurnRiskDeps) {
    this.now = deps.now ?? (() => new Date());
    this.log = deps.logger.child({ module: 'churn' });
  }

  private async cohortTable(now: Date): Promise<Cohorts> {
    if (!this.cohorts || now.getTime() - this.cohorts.at > COHORT_TTL_MS || now.getTime() < this.cohorts.at) {
      this.cohorts = { at: now.getTime(), table: await readCohorts(this.deps) };
    }
    return this.cohorts.table;
  }

  /** Scores these contacts now, stores them and reports the rises; returns the new scores. */
  async recompute(externalUserIds: string[]): Promise<Map<string, ChurnView>> {
    const ids = [...new Set(idsSchema.parse(externalUserIds))];
    const now = this.now();
    const result = new Map<string, ChurnView>();
    const cohorts = await this.cohortTable(now);
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const [facts, previous] = await Promise.all([
        readFacts(this.deps, batch, cohorts, now),
        this.deps.model.find({ externalUserId: mongoose.trusted({ $in: batch }) }, { _id: 0, externalUserId: 1, score: 1 }).lean(),
      ]);
      const before = new Map(previous.map((p) => [p.externalUserId, p.score]));
      const writes = batch.map((id) => {
        const { score, reasons } = churnScore(facts.get(id)!, now);
        result.set(id, { score, reasons, computedAt: now });
        return { updateOne: { filter: { externalUserId: id }, update: { $set: { score, reasons, computedAt: now } }, upsert: true } };
      });
      if (writes.length) await this.deps.model.bulkWrite(writes, { ordered: false });
      for (const id of batch) {
        const score = result.get(id)!.score;
        const prior = before.get(id) ?? null;
        if (score > (prior ?? 0)) await this.deps.onScored?.({ externalUserId: id, previous: prior, score, at: now });
      }
    }
    return result;
  }

  /** Every contact in the pool. */
  async recomputeAll(): Promise<number> {
    this.cohorts = null;
    const ids = await this.deps.contacts.Contact.distinct('externalUserId');
    await this.recompute(ids);
    return ids.length;
  }

  /**
   * Contacts whose record changed since the last pass (the pool moves updatedAt with each activity).
   * The watermark is the newest updatedAt seen, the store's own clock, never this process's `now`.
   */
  async recomputeChanged(): Promise<number> {
    const since = this.watermark;
    const changed = await this.deps.contacts.Contact.find(since ? { updatedAt: mongoose.trusted({ $gt: since }) } : {}, { _id: 0, externalUserId: 1, updatedAt: 1 }).lean();
    for (const c of changed) if (c.updatedAt && (!this.watermark || c.updatedAt > this.watermark)) this.watermark = c.updatedAt;
    if (!since) this.cohorts = null;
    if (changed.length) await this.recompute(changed.map((c) => c.externalUserId));
    return changed.length;
  }

  async scoreOf(externalUserId: string): Promise<ChurnView | null> {
    const doc = await this.deps.model.findOne({ externalUserId: z.string().min(1).parse(externalUserId) }).lean();
    return doc ? { score: doc.score, reasons: doc.reasons as ChurnReason[], computedAt: doc.computedAt } : null;
  }

  async scoresOf(externalUserIds: string[]): Promise<Map<string, { score: number; reasons: ChurnReason[] }>> {
    const docs = await this.deps.model.find({ externalUserId: mongoose.trusted({ $in: idsSchema.parse(externalUserIds) }) }).lean();
    return new Map(docs.map((d) => [d.externalUserId, { score: d.score, reasons: d.reasons as ChurnReason[] }]));
  }

  /** Contacts scored within [min, max], for the customers filter. */
  async idsInRange(range: { min?: number; max?: number }): Promise<string[]> {
    const { min, max } = rangeSchema.parse(range);
    const score = { ...(min !== undefined ? { $gte: min } : {}), ...(max !== undefined ? { $lte: max } : {}) };
    return this.deps.model.distinct('externalUserId', { score: mongoose.trusted(score) });
  }

  /**
   * One pass, if this instance leads (the `churn-scores` lease in main.ts): the minute pass, or the
   * daily full one. Returns how many contacts were scored (0 on an instance that does not lead).
   */
  async tick(kind: 'minute' | 'daily', isLeader: () => boolean = () => true): Promise<number> {
    if (!isLeader()) return 0;
    return kind === 'daily' ? this.recomputeAll() : this.recomputeChanged();
  }

  /** The minute pass and the daily full pass on node-cron, each only while `isLeader`. */
  start(options: { isLeader?: () => boolean } = {}): void {
    const leads = options.isLeader ?? (() => true);
    const run = (kind: 'minute' | 'daily') => () =>
      this.tick(kind, leads).then(
        (n) => void this.log.debug({ contacts: n }, `churn ${kind} pass`),
        (err: unknown) => this.log.error({ err }, `churn ${kind} pass failed`),
      );
    const opts = { noOverlap: true, suppressMissedWarning: true, ...(this.deps.timeZone ? { timezone: this.deps.timeZone } : {}) };
    this.tasks = [
      schedule('* * * * *', run('minute'), { ...opts, name: 'churn-minute' }),
      schedule(this.deps.dailyCron ?? '17 3 * * *', run('daily'), { ...opts, name: 'churn-daily' }),
    ];
  }

  async stop(): Promise<void> {
    await Promise.all(this.tasks.map((t) => t.destroy()));
    this.tasks = [];
  }
}
