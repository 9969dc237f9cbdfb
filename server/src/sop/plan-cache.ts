import type { HydratedDocument, Model, Types } from 'mongoose';
import { ShortLivedReads } from '../short-lived-reads/index.ts';
import { planWriteCount, type Plan } from './models.ts';

/** Long enough that a spike of events or a batch of jobs reads each plan once, short enough that an edit elsewhere is seen almost at once. */
const DEFAULT_TTL_MS = 1_000;

/**
 * Plans as the event triggers and the job worker read them: every add event, tag event and step
 * job used to read its plans from the store, the most repeated read on a campaign day. An entry
 * lives a second, and any plan write in this process drops them all; a plan disabled on another
 * instance can therefore still run a job here for up to that second.
 */
export class PlanCache {
  private readonly byTrigger: ShortLivedReads<Array<HydratedDocument<Plan>>>;
  private readonly byId: ShortLivedReads<HydratedDocument<Plan> | null>;

  constructor(
    private readonly Plan: Model<Plan>,
    ttlMs = DEFAULT_TTL_MS,
  ) {
    this.byTrigger = new ShortLivedReads(ttlMs, planWriteCount);
    this.byId = new ShortLivedReads(ttlMs, planWriteCount);
  }

  /** Enabled plans of one trigger type. */
  enabled(trigger: string): Promise<Array<HydratedDocument<Plan>>> {
    return this.byTrigger.get(trigger, () => this.Plan.find({ enabled: true, 'template.trigger.type': trigger }).exec());
  }

  byPlanId(id: Types.ObjectId): Promise<HydratedDocument<Plan> | null> {
    return this.byId.get(String(id), () => this.Plan.findById(id).exec());
  }
}
