import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import type { SopDelay, SopTrigger } from './templates/schema.ts';

/** When a step with this delay falls due after `from`, in the plan's time zone (stored and returned in UTC). */
export function applyDelay(from: Date, delay: SopDelay | undefined, timeZone: string): Date {
  if (!delay) return from;
  let t = DateTime.fromJSDate(from, { zone: timeZone }).plus({ days: delay.days, hours: delay.hours, minutes: delay.minutes });
  if (delay.at) {
    const [hour, minute] = delay.at.split(':').map(Number) as [number, number];
    t = t.set({ hour, minute, second: 0, millisecond: 0 });
  }
  return t.toJSDate();
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
};

/**
 * If `at` falls inside the quiet window (e.g. 22:00–08:00, which wraps midnight), the end of that
 * window; otherwise null. Customers are not messaged at night; the job waits instead.
 */
export function quietUntil(at: Date, quiet: { start: string; end: string }, timeZone: string): Date | null {
  const local = DateTime.fromJSDate(at, { zone: timeZone });
  const now = local.hour * 60 + local.minute;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return null;
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  const endToday = local.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  return (endToday > local ? endToday : endToday.plus({ days: 1 })).toJSDate();
}

/** The first moment of the local day after `at`'s (the cap counts local days). */
export function nextLocalDay(at: Date, timeZone: string): Date {
  return DateTime.fromJSDate(at, { zone: timeZone }).plus({ days: 1 }).startOf('day').toJSDate();
}

/** The calendar day of `at` in the time zone: the unit of the per-contact frequency cap. */
export function localDay(at: Date, timeZone: string): string {
  return DateTime.fromJSDate(at, { zone: timeZone }).toISODate() ?? at.toISOString().slice(0, 10);
}

export type ScheduleTrigger = Extract<SopTrigger, { type: 'schedule' }>;

/**
 * The slots of a schedule in (after, until], oldest first, at most `limit`: a cron's calendar slots
 * or a one-off's single minute, in the plan's time zone. The engine enrols these and the console
 * shows them, so what the operator reads is what runs.
 */
export function scheduleSlots(trigger: ScheduleTrigger, timeZone: string, after: Date, until: Date | null, limit = Infinity): Date[] {
  if (trigger.at !== undefined) {
    const once = DateTime.fromISO(trigger.at, { zone: timeZone }).toJSDate();
    return once > after && (until === null || once <= until) && limit > 0 ? [once] : [];
  }
  if (trigger.cron === undefined) return [];
  const slots = CronExpressionParser.parse(trigger.cron, { tz: timeZone, currentDate: after, ...(until ? { endDate: until } : {}) });
  const out: Date[] = [];
  while (out.length < limit && slots.hasNext()) out.push(slots.next().toDate());
  return out;
}
