import { periodCost, type ChannelSpend } from './cost.ts';
import type { ContactFacts, OrderFacts } from './facts.ts';

const DAY_MS = 86_400_000;
/** How long after a send (or an entry) an order still counts as its conversion. */
export const CONVERSION_WINDOW_MS = 30 * DAY_MS;

/** The metric set; a rate is null when its denominator is 0. Amounts in yuan. */
export interface BusinessMetrics {
  entered: number;
  added: number;
  passRate: number | null;
  retention7: number | null;
  retention30: number | null;
  conversionRate: number | null;
  repurchaseRate: number | null;
  revenue: number;
  ltv: number | null;
}

/** A channel and its spend (undated `cost`, dated `costs`), as analytics reads it. */
export interface ChannelInfo extends ChannelSpend {
  state: string;
  name: string;
}

export interface ChannelMetrics extends BusinessMetrics {
  state: string;
  name: string;
  /** The channel's cost of this period (dated costs prorated to it; see periodCost), in yuan. */
  cost: number;
  roi: number | null;
}

export interface Period {
  from: Date;
  to: Date;
}

/** Counters of one scope (everyone, or one channel). */
class Tally {
  entered = 0;
  enteredAdded = 0;
  added = 0;
  retained7 = 0;
  eligible7 = 0;
  retained30 = 0;
  eligible30 = 0;
  converted = 0;
  buyers = 0;
  repeatBuyers = 0;
  revenueFen = 0;
  cohortSpendFen = 0;

  metrics(): BusinessMetrics {
    return {
      entered: this.entered,
      added: this.added,
      passRate: ratio(this.enteredAdded, this.entered),
      retention7: ratio(this.retained7, this.eligible7),
      retention30: ratio(this.retained30, this.eligible30),
      conversionRate: ratio(this.converted, this.added),
      repurchaseRate: ratio(this.repeatBuyers, this.buyers),
      revenue: this.revenueFen / 100,
      ltv: this.added === 0 ? null : this.cohortSpendFen / 100 / this.added,
    };
  }
}

/**
 * Every metric of a period in one pass over the contacts, then over the period's orders and the
 * cohort's orders only (through the indexes in OrderFacts), so a 30-point series stays cheap. Each
 * contact counts in the overall scope and in its channel's (by its first relation's `state`).
 */
export function computeMetrics(facts: ContactFacts, orders: OrderFacts, channels: ChannelInfo[], period: Period): { overall: BusinessMetrics; channels: ChannelMetrics[] } {
  const from = period.from.getTime();
  const to = period.to.getTime();
  const overall = new Tally();
  const tallies = channels.map(() => new Tally());
  const channelIndex = new Map(channels.map((c, i) => [c.state, i]));
  const size = facts.ids.length;
  // Each contact counts in these scopes; the arrays are shared, so the loops allocate nothing per contact.
  const overallOnly = [overall];
  const withChannel = tallies.map((t) => [overall, t]);
  const scopes: Tally[][] = new Array(size);
  const cohort: number[] = [];

  for (let i = 0; i < size; i++) {
    const state = facts.state[i];
    const k = state === null || state === undefined ? undefined : channelIndex.get(state);
    const scope = k === undefined ? overallOnly : withChannel[k]!;
    scopes[i] = scope;
    const entered = facts.enteredAt[i]!;
    const added = facts.addedAt[i]!;
    const removed = facts.removedAt[i]!;
    if (entered >= from && entered < to) {
      const hasAdded = !Number.isNaN(added);
      for (const t of scope) {
        t.entered++;
        if (hasAdded) t.enteredAdded++;
      }
    }
    if (added >= from && added < to) {
      cohort.push(i);
      // Still a friend N days after the add: never removed, or removed only after that moment.
      const mark7 = added + 7 * DAY_MS;
      const mark30 = added + 30 * DAY_MS;
      const eligible7 = mark7 <= to;
      const eligible30 = mark30 <= to;
      const retained7 = eligible7 && (Number.isNaN(removed) || removed > mark7);
      const retained30 = eligible30 && (Number.isNaN(removed) || removed > mark30);
      for (const t of scope) {
        t.added++;
        if (eligible7) t.eligible7++;
        if (retained7) t.retained7++;
        if (eligible30) t.eligible30++;
        if (retained30) t.retained30++;
      }
    }
  }

  // Revenue and repurchase: only the orders paid in the period, found in the paid-time order.
  const paidInPeriod = new Map<number, number>();
  for (let j = firstPaidAtOrAfter(orders, from), end = firstPaidAtOrAfter(orders, to); j < end; j++) {
    const k = orders.byPaidAt[j]!;
    const i = orders.contact[k]!;
    for (const t of scopes[i]!) t.revenueFen += orders.amountFen[k]!;
    paidInPeriod.set(i, (paidInPeriod.get(i) ?? 0) + 1);
  }
  for (const [i, paid] of paidInPeriod) {
    for (const t of scopes[i]!) {
      t.buyers++;
      if (paid >= 2) t.repeatBuyers++;
    }
  }

  // Conversion and LTV: each cohort member's own orders.
  for (const i of cohort) {
    const added = facts.addedAt[i]!;
    let spentFen = 0;
    let converted = false;
    for (let j = orders.contactStart[i]!, end = orders.contactStart[i + 1]!; j < end; j++) {
      const k = orders.byContact[j]!;
      const paid = orders.paidAt[k]!;
      if (paid < to) spentFen += orders.amountFen[k]!;
      if (paid >= added && paid < added + CONVERSION_WINDOW_MS) converted = true;
    }
    for (const t of scopes[i]!) {
      t.cohortSpendFen += spentFen;
      if (converted) t.converted++;
    }
  }

  return {
    overall: overall.metrics(),
    channels: channels.map((channel, i) => {
      const metrics = tallies[i]!.metrics();
      const cost = periodCost(channel, { from, to });
      return { state: channel.state, name: channel.name, cost, ...metrics, roi: cost === 0 ? null : (metrics.revenue - cost) / cost };
    }),
  };
}

/** Position in `byPaidAt` of the first order paid at or after `at` (binary search). */
function firstPaidAtOrAfter(orders: OrderFacts, at: number): number {
  let lo = 0;
  let hi = orders.byPaidAt.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (orders.paidAt[orders.byPaidAt[mid]!]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}
