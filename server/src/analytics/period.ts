import { DateTime } from 'luxon';
import { z } from 'zod';

const MAX_DAYS = 3 * 366;
const DAILY_UP_TO_DAYS = 62;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD');

/** `?from=YYYY-MM-DD&to=YYYY-MM-DD`: the period [from 00:00, to 00:00) on the business clock. */
export function periodQuery(timeZone: string) {
  return z
    .object({ from: day, to: day })
    .transform((q, ctx) => {
      const from = DateTime.fromISO(q.from, { zone: timeZone });
      const to = DateTime.fromISO(q.to, { zone: timeZone });
      if (!from.isValid) ctx.addIssue({ code: 'custom', path: ['from'], message: `not a calendar date: ${q.from}` });
      if (!to.isValid) ctx.addIssue({ code: 'custom', path: ['to'], message: `not a calendar date: ${q.to}` });
      if (!from.isValid || !to.isValid) return z.NEVER;
      if (to <= from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from (the period ends at to 00:00)' });
      if (to.diff(from, 'days').days > MAX_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `the period may span at most ${MAX_DAYS} days` });
      return { from: q.from, to: q.to, period: { from: from.toJSDate(), to: to.toJSDate() } };
    });
}

/** Points of a time series over the period: days for up to two months, else calendar months (clipped to the period). */
export function buckets(period: { from: Date; to: Date }, timeZone: string): { interval: 'day' | 'month'; points: Array<{ label: string; from: Date; to: Date }> } {
  const start = DateTime.fromJSDate(period.from, { zone: timeZone });
  const end = DateTime.fromJSDate(period.to, { zone: timeZone });
  const interval = end.diff(start, 'days').days <= DAILY_UP_TO_DAYS ? 'day' : 'month';
  const points: Array<{ label: string; from: Date; to: Date }> = [];
  for (let at = start; at < end; ) {
    const next = DateTime.min(interval === 'day' ? at.plus({ days: 1 }) : at.startOf('month').plus({ months: 1 }), end);
    points.push({ label: at.toFormat(interval === 'day' ? 'yyyy-MM-dd' : 'yyyy-MM'), from: at.toJSDate(), to: next.toJSDate() });
    at = next;
  }
  return { interval, points };
}
