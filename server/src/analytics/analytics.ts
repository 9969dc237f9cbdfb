import type { ContactModels } from '../contacts/index.ts';
import type { Leadership } from '../leases/index.ts';
import type { Logger } from '../observability/index.ts';
import { FactsMirror, type CurrentFacts, type MirrorOptions } from './facts.ts';
import { FactsSnapshots, type SnapshotHead } from './snapshot.ts';
import { computeMetrics, type ChannelInfo, type ChannelMetrics, type BusinessMetrics, type Period } from './metrics.ts';
import { buckets } from './period.ts';
import { businessMidnight } from './cost.ts';
import { repActivity, scriptUsage, sopFunnel, type ActivityDeps } from './activity.ts';

export interface AnalyticsReport {
  overall: BusinessMetrics;
  channels: ChannelMetrics[];
}

/** How fresh an answer is (added beside the report's fields, which keep their names). */
export interface Freshness {
  /** ISO time: every write that reached the store before it is counted. */
  asOf: string;
  /** True while a larger read of newer changes runs: this answer did not wait for it. */
  refreshing: boolean;
}

export interface AnalyticsDeps extends ActivityDeps {
  contacts: ActivityDeps['contacts'] & Pick<ContactModels, 'Channel'>;
  timeZone: string;
}

export interface AnalyticsOptions extends MirrorOptions {
  /** Start from (and let the lease holder keep) the snapshot in the store; false reads everything. */
  snapshots: boolean;
  snapshotChunkBytes?: number;
}

/** The one instance that keeps the snapshot every instance starts from holds this lease. */
export const ANALYTICS_SNAPSHOT_LEASE = 'analytics-snapshot';
/** About 50-100 ms of reading in the embedded store (idle): a request still answers well within a second. */
const INLINE_DELTA_ROWS = 2_000;
const KEEP_EVERY_MS = 30_000;
/** A trickle of changes is saved this often; a burst larger than a request reads, at once. */
const SAVE_EVERY_MS = 5 * 60_000;

interface Loaded extends CurrentFacts {
  channels: ChannelInfo[];
}

/**
 * 通过率 / 留存率 / 转化率 / 复购率 / revenue / ROI / LTV, and the dashboard's funnel and activity
 * tables. Metrics are computed in memory, in one pass, from a mirror of the relations and orders
 * (see FactsMirror): at 100,000 contacts and 300,000 orders neither re-reading them nor an
 * aggregation in the embedded store answers within a second. The mirror starts from a snapshot in
 * the store that one instance keeps (snapshotKeeper, lease `analytics-snapshot`).
 */
export class Analytics {
  private readonly mirror: FactsMirror;
  private readonly options: AnalyticsOptions;
  private saving: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: AnalyticsDeps, options: Partial<AnalyticsOptions> = {}) {
    this.options = { snapshots: true, inlineDeltaRows: INLINE_DELTA_ROWS, ...options };
    const snapshots = this.options.snapshots ? new FactsSnapshots(deps.orders.db, this.options.snapshotChunkBytes) : null;
    this.mirror = new FactsMirror({ contacts: deps.contacts, orders: deps.orders, snapshots }, this.options);
  }

  /** Where the mirror started from and how many relation and order rows it has read from the store. */
  get mirrorStats(): Readonly<FactsMirror['stats']> {
    return this.mirror.stats;
  }

  /** Resolves once every change written so far is in the facts (after a `refreshing` answer, say). */
  caughtUp(): Promise<void> {
    return this.mirror.catchUp();
  }

  /**
   * One round of the lease holder's work: catch up, then save a snapshot when none is saved yet, when
   * more changed than a request reads itself, or when the last one is SAVE_EVERY_MS old.
   */
  async keepSnapshot(isLeader: () => boolean = () => true): Promise<SnapshotHead | null> {
    await this.mirror.catchUp();
    const { rowsSinceSave, savedWatermark } = this.mirror.stats;
    const due = savedWatermark === 0 || rowsSinceSave > this.options.inlineDeltaRows || (rowsSinceSave > 0 && Date.now() - savedWatermark >= SAVE_EVERY_MS);
    return due && isLeader() ? this.saveSnapshot() : null;
  }

  /** Saves the snapshot now; keepSnapshot decides when the lease holder does. */
  saveSnapshot(): Promise<SnapshotHead> {
    const save = this.mirror.save();
    this.saving = save.catch(() => undefined);
    return save;
  }

  /** The work lease `analytics-snapshot` guards: keepSnapshot now and every KEEP_EVERY_MS. */
  snapshotKeeper(deps: { isLeader: () => boolean; logger: Logger; everyMs?: number }): Leadership {
    let timer: NodeJS.Timeout | null = null;
    let leading = false;
    let round: Promise<unknown> = Promise.resolve();
    const tick = () => {
      round = round
        .then(() => (leading ? this.keepSnapshot(() => leading && deps.isLeader()) : null))
        .catch((err: unknown) => deps.logger.warn({ err }, 'analytics snapshot not kept this round'));
    };
    return {
      start: () => {
        leading = true;
        tick();
        timer = setInterval(tick, deps.everyMs ?? KEEP_EVERY_MS);
        timer.unref();
      },
      stop: async () => {
        // A catch-up read still under way harms nobody (`leading` keeps it from saving); a save
        // must end before the next holder may write one.
        leading = false;
        if (timer) clearInterval(timer);
        await this.saving;
      },
    };
  }

  /** Reads the mirror in the background so the first dashboard opens fast. */
  warm(): Promise<void> {
    return this.load().then(() => undefined);
  }

  async report(period: Period): Promise<AnalyticsReport & Freshness> {
    const loaded = await this.load();
    return { ...computeMetrics(loaded.facts, loaded.orders, loaded.channels, period), ...freshness(loaded) };
  }

  /** The report for each day (or month) of the period, each computed as if that bucket were the period. */
  async series(period: Period): Promise<{ interval: 'day' | 'month'; points: Array<AnalyticsReport & { label: string }> } & Freshness> {
    const loaded = await this.load();
    const { interval, points } = buckets(period, this.deps.timeZone);
    return {
      interval,
      points: points.map((p) => ({ label: p.label, ...computeMetrics(loaded.facts, loaded.orders, loaded.channels, p) })),
      ...freshness(loaded),
    };
  }

  sopFunnel(period: Period) {
    return sopFunnel(this.deps, period);
  }

  repActivity(period: Period) {
    return repActivity(this.deps, period);
  }

  scriptUsage(period: Period) {
    return scriptUsage(this.deps, period);
  }

  private async load(): Promise<Loaded> {
    const [current, channels] = await Promise.all([
      this.mirror.current(),
      this.deps.contacts.Channel.find({}, { _id: 0, state: 1, name: 1, cost: 1, costs: 1 }).sort({ state: 1 }).lean(),
    ]);
    const { timeZone } = this.deps;
    return {
      ...current,
      channels: channels.map((c) => ({
        state: c.state,
        name: c.name,
        cost: c.cost ?? 0,
        costs: (c.costs ?? []).map((e) => ({ from: businessMidnight(e.from, timeZone), to: businessMidnight(e.to, timeZone), amount: e.amount })),
      })),
    };
  }
}

function freshness(loaded: Loaded): Freshness {
  return { asOf: new Date(loaded.asOf).toISOString(), refreshing: loaded.refreshing };
}
