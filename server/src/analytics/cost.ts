import { DateTime } from 'luxon';

/** One dated spend as instants: `amount` yuan over [from, to) (epoch milliseconds). */
export interface CostSpan {
  from: number;
  to: number;
  amount: number;
}

/** A channel's spend as analytics reads it: the undated `cost` counts only when there are no dated spans. */
export interface ChannelSpend {
  cost: number;
  costs: CostSpan[];
}

/**
 * The cost of the period [from, to): each span contributes amount × (time it shares with the period /
 * its own length) — on a clock without DST shifts, the days of overlap over the days of the span.
 * Spans may overlap one another; each counts. A channel with no dated spans counts its undated
 * `cost` whole in any period (how every channel counted before dated costs). Rounded to the fen.
 */
export function periodCost(spend: ChannelSpend, period: { from: number; to: number }): number {
  if (spend.costs.length === 0) return spend.cost;
  let total = 0;
  for (const span of spend.costs) {
    const length = span.to - span.from;
    if (!(length > 0)) continue;
    const overlap = Math.min(span.to, period.to) - Math.max(span.from, period.from);
    if (overlap > 0) total += (span.amount * overlap) / length;
  }
  return Math.round(total * 100) / 100;
}

/**
 * A stored calendar date (UTC midnight of that date, see the channel schema) as that date's midnight
 * on the business clock: how the analytics periods begin and end.
 */
export function businessMidnight(date: Date, timeZone: string): number {
  return DateTime.fromObject({ year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() }, { zone: timeZone }).toMillis();
}
