import type { ContactFacts, OrderFacts } from './facts.ts';

const DAY_MS = 86_400_000;
const CONVERSION_WINDOW_MS = 30 * DAY_MS;

/** The metric set; a rate is null when its denominator is 0. Amounts in yuan. */
export interface Metrics {
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

export interface ChannelInfo {
  state: string;
  name: string;
  cost: number;
}

export interface ChannelMetrics extends Metrics {
  state: string;
  name: string;
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

  metrics(): Metrics {
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
 * Every metric of a period in two passes over the contacts and one over the orders: each contact
 * counts in the overall scope and in its channel's (by its first relation's `state`).
 */
export function computeMetrics(facts: ContactFacts, orders: OrderFacts, channels: ChannelInfo[], period: Period): { overall: Metrics; channels: ChannelMetrics[] } {
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
  const channelTally: Array<Tally | undefined> = new Array(size);
  const inCohort = new Uint8Array(size);
  const converted = new Uint8Array(size);
  const paidInPeriod = new Uint32Array(size);

  for (let i = 0; i < size; i++) {
    const state = facts.state[i];
    const k = state === null || state === undefined ? undefined : channelIndex.get(state);
    const scope = k === undefined ? overallOnly : withChannel[k]!;
    scopes[i] = scope;
    channelTally[i] = k === undefined ? undefined : tallies[k];
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
      inCohort[i] = 1;
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

  for (let k = 0; k < orders.contact.length; k++) {
    const i = orders.contact[k]!;
    const paid = orders.paidAt[k]!;
    const amount = orders.amountFen[k]!;
    const tally = channelTally[i];
    if (paid >= from && paid < to) {
      overall.revenueFen += amount;
      if (tally) tally.revenueFen += amount;
      paidInPeriod[i]!++;
    }
    if (inCohort[i] === 1) {
      if (paid < to) {
        overall.cohortSpendFen += amount;
        if (tally) tally.cohortSpendFen += amount;
      }
      const added = facts.addedAt[i]!;
      if (paid >= added && paid < added + CONVERSION_WINDOW_MS) converted[i] = 1;
    }
  }

  for (let i = 0; i < size; i++) {
    const paid = paidInPeriod[i]!;
    if (converted[i] === 0 && paid === 0) continue;
    for (const t of scopes[i]!) {
      if (converted[i] === 1) t.converted++;
      if (paid > 0) t.buyers++;
      if (paid >= 2) t.repeatBuyers++;
    }
  }

  return {
    overall: overall.metrics(),
    channels: channels.map((channel, i) => {
      const metrics = tallies[i]!.metrics();
      return { ...channel, ...metrics, roi: channel.cost === 0 ? null : (metrics.revenue - channel.cost) / channel.cost };
    }),
  };
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}
