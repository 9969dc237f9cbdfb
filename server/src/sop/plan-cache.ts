import type { HydratedDocument, Model, Types } from 'mongoose';
import { planWriteCount, type Plan } from './models.ts';

/** Long enough that a spike of events or a batch of jobs reads each plan once, short enough that an edit elsewhere is seen almost at once. */
const DEFAULT_TTL_MS = 1_000;

interface Entry<T> {
  /** The read itself, so the loops that miss together share one. */
  value: Promise<T>;
  until: number;
  writes: number;
}

/**
 * Plans as the event triggers and the job worker read them: every add event, tag event and step
 * job used to read its plans from the store, the most repeated read on a campaign day. An entry
 * lives a second, and any plan write in this process drops them all; a plan disabled on another
 * instance can therefore still run a job here for up to that second.
 */
export class PlanCache {
  private readonly byTrigger = new Map<string, Entry<Array<HydratedDocument<Plan>>>>();
  private readonly byId = new Map<string, Entry<HydratedDocument<Plan> | null>>();

  constructor(
    private readonly Plan: Model<Plan>,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {}

  /** Enabled plans of one trigger type. */
  enabled(trigger: string): Promise<Array<HydratedDocument<Plan>>> {
    return this.read(this.byTrigger, trigger, () => this.Plan.find({ enabled: true, 'template.trigger.type': trigger }).exec());
  }

  byPlanId(id: Types.ObjectId): Promise<HydratedDocument<Plan> | null> {
    return this.read(this.byId, String(id), () => this.Plan.findById(id).exec());
  }

  private read<T>(entries: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const cached = entries.get(key);
    if (cached && cached.until > now && cached.writes === planWriteCount()) return cached.value;
    const entry = { value: load(), until: now + this.ttlMs, writes: planWriteCount() };
    if (entries.size > 1_000) entries.clear();
    entries.set(key, entry);
    // A failed read is not kept: the next caller tries again.
    entry.value.catch(() => entries.get(key) === entry && entries.delete(key));
    return entry.value;
  }
}
