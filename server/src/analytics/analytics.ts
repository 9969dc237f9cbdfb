import type { ContactModels } from '../contacts/index.ts';
import { loadContactFacts, loadOrderFacts, type ContactFacts, type OrderFacts } from './facts.ts';
import { computeMetrics, type ChannelInfo, type ChannelMetrics, type Metrics, type Period } from './metrics.ts';
import { buckets } from './period.ts';
import { repActivity, scriptUsage, sopFunnel, type ActivityDeps } from './activity.ts';

const CONVERSION_WINDOW_MS = 30 * 86_400_000;

export interface AnalyticsReport {
  overall: Metrics;
  channels: ChannelMetrics[];
}

export interface AnalyticsDeps extends ActivityDeps {
  contacts: ActivityDeps['contacts'] & Pick<ContactModels, 'Channel'>;
  timeZone: string;
}

interface Loaded {
  facts: ContactFacts;
  orders: OrderFacts;
  channels: ChannelInfo[];
}

/**
 * 通过率 / 留存率 / 转化率 / 复购率 / revenue / ROI / LTV, and the dashboard's funnel and activity
 * tables. Metrics are computed in memory from projected rows (one read of relations, one of orders):
 * at 100,000 contacts and 300,000 orders that is faster than an aggregation in the embedded store.
 */
export class Analytics {
  /** Loads in flight, shared by requests that arrive together (the dashboard asks for several views at once). */
  private readonly loading = new Map<number, Promise<Loaded>>();

  constructor(private readonly deps: AnalyticsDeps) {}

  async report(period: Period): Promise<AnalyticsReport> {
    const loaded = await this.load(period.to);
    return computeMetrics(loaded.facts, loaded.orders, loaded.channels, period);
  }

  /** The report for each day (or month) of the period, each computed as if that bucket were the period. */
  async series(period: Period): Promise<{ interval: 'day' | 'month'; points: Array<AnalyticsReport & { label: string }> }> {
    const loaded = await this.load(period.to);
    const { interval, points } = buckets(period, this.deps.timeZone);
    return {
      interval,
      points: points.map((p) => ({ label: p.label, ...computeMetrics(loaded.facts, loaded.orders, loaded.channels, p) })),
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

  private load(to: Date): Promise<Loaded> {
    // Conversion looks up to 30 days past the last add of the cohort, so orders up to to + 30 days.
    const before = to.getTime() + CONVERSION_WINDOW_MS;
    const pending = this.loading.get(before);
    if (pending) return pending;
    const started = this.read(new Date(before)).finally(() => this.loading.delete(before));
    this.loading.set(before, started);
    return started;
  }

  private async read(before: Date): Promise<Loaded> {
    const [relations, channels] = await Promise.all([
      loadContactFacts(this.deps.contacts),
      this.deps.contacts.Channel.find({}, { _id: 0, state: 1, name: 1, cost: 1 }).sort({ state: 1 }).lean(),
    ]);
    const { facts, orders } = await loadOrderFacts(this.deps.orders, relations, before);
    return { facts, orders, channels: channels.map((c) => ({ state: c.state, name: c.name, cost: c.cost ?? 0 })) };
  }
}
