import type { ScheduleTrigger } from './journey.ts';

/**
 * The schedule picker's model and its two-way mapping to the trigger the server stores (5-field
 * cron in the plan's time zone, or a one-off local `at`), plus the sentence an operator reads.
 */
export type ScheduleKind = 'daily' | 'weekly' | 'monthly' | 'once' | 'custom';

export interface ScheduleForm {
  kind: ScheduleKind;
  /** HH:mm, for daily / weekly / monthly. */
  time: string;
  /** 0 = Sunday … 6 = Saturday, as cron counts them. */
  weekdays: number[];
  dayOfMonth: number;
  /** YYYY-MM-DDTHH:mm, for once. */
  at: string;
  /** The cron kept as is when the picker cannot show it (e.g. a yearly template date). */
  cron: string;
}

export type Translate = (key: string, params?: Record<string, unknown>) => string;

/** Monday first, as Chinese calendars show the week. */
export const WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0] as const;

const pad = (n: number) => String(n).padStart(2, '0');
const INT = /^\d+$/;

export function defaultSchedule(): ScheduleForm {
  return { kind: 'weekly', time: '10:00', weekdays: [1], dayOfMonth: 1, at: '', cron: '' };
}

/** "1,4" / "1-5" / "7" → sorted unique weekdays 0–6; null when the field is not a plain list. */
function weekdayList(field: string): number[] | null {
  const days = new Set<number>();
  for (const part of field.split(',')) {
    const range = /^(\d)-(\d)$/.exec(part);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (from > to || to > 7) return null;
      for (let d = from; d <= to; d++) days.add(d % 7);
    } else if (/^\d$/.test(part) && Number(part) <= 7) days.add(Number(part) % 7);
    else return null;
  }
  return [...days].sort((a, b) => a - b);
}

interface CronParts { minute: number; hour: number; dom: string; month: string; dow: string }

function cronParts(cron: string): CronParts | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return null;
  const [m, h, dom, month, dow] = fields as [string, string, string, string, string];
  if (!INT.test(m) || !INT.test(h) || Number(m) > 59 || Number(h) > 23) return null;
  return { minute: Number(m), hour: Number(h), dom, month, dow };
}

export function scheduleFromTrigger(trigger: ScheduleTrigger | undefined): ScheduleForm {
  const form = defaultSchedule();
  if (!trigger) return form;
  if (trigger.at) return { ...form, kind: 'once', at: trigger.at };
  const cron = trigger.cron ?? '';
  const parts = cronParts(cron);
  const custom = { ...form, kind: 'custom' as const, cron };
  if (!parts || parts.month !== '*') return parts || cron ? custom : form;
  const time = `${pad(parts.hour)}:${pad(parts.minute)}`;
  if (parts.dom === '*' && parts.dow === '*') return { ...form, kind: 'daily', time };
  if (parts.dom === '*') {
    const weekdays = weekdayList(parts.dow);
    return weekdays ? { ...form, kind: 'weekly', time, weekdays } : custom;
  }
  if (parts.dow === '*' && INT.test(parts.dom) && Number(parts.dom) >= 1 && Number(parts.dom) <= 31) {
    return { ...form, kind: 'monthly', time, dayOfMonth: Number(parts.dom) };
  }
  return custom;
}

export function triggerFromSchedule(form: ScheduleForm): ScheduleTrigger {
  if (form.kind === 'once') return { type: 'schedule', at: form.at };
  if (form.kind === 'custom') return { type: 'schedule', cron: form.cron.trim() };
  const [h = '10', m = '0'] = form.time.split(':');
  const head = `${Number(m)} ${Number(h)}`;
  if (form.kind === 'daily') return { type: 'schedule', cron: `${head} * * *` };
  if (form.kind === 'monthly') return { type: 'schedule', cron: `${head} ${form.dayOfMonth} * *` };
  // An empty weekday choice would be an invalid cron: the server's problem names it, keep it visible.
  const days = [...new Set(form.weekdays)].sort((a, b) => a - b).join(',');
  return { type: 'schedule', cron: `${head} * * ${days}` };
}

function weekdaysWords(days: number[], t: Translate): string {
  const sorted = WEEK_ORDER.filter((d) => days.includes(d));
  if (sorted.length === 7) return t('console.schedule.words.everyDay');
  if (sorted.length === 5 && sorted.every((d) => d >= 1 && d <= 5)) return t('console.schedule.words.workdays');
  return t('console.schedule.words.everyWeek', { days: sorted.map((d) => t(`console.schedule.weekday.${d}`)).join(t('console.schedule.words.joiner')) });
}

/** The trigger as a sentence: 每周一、周四 10:00 · 每月 1 日 09:30 · 仅一次 2026-12-12 20:00. */
export function scheduleWords(trigger: ScheduleTrigger, t: Translate): string {
  const form = scheduleFromTrigger(trigger);
  switch (form.kind) {
    case 'once':
      return t('console.schedule.words.once', { at: form.at.replace('T', ' ') });
    case 'daily':
      return `${t('console.schedule.words.everyDay')} ${form.time}`;
    case 'weekly':
      return `${weekdaysWords(form.weekdays, t)} ${form.time}`;
    case 'monthly':
      return t('console.schedule.words.everyMonth', { day: form.dayOfMonth, time: form.time });
    case 'custom': {
      const parts = cronParts(form.cron);
      if (parts && INT.test(parts.dom) && INT.test(parts.month) && parts.dow === '*') {
        return t('console.schedule.words.everyYear', { month: Number(parts.month), day: Number(parts.dom), time: `${pad(parts.hour)}:${pad(parts.minute)}` });
      }
      return t('console.schedule.words.cron', { cron: form.cron });
    }
  }
}

/** An ISO instant as the wall clock of `timeZone` (the plan's), e.g. 2026-12-07 周一 10:00. */
export function runLabel(iso: string, timeZone: string, t: Translate): string {
  const date = new Date(iso);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false, weekday: 'short' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday ?? '');
  // Intl writes midnight as 24 in some engines with hour12: false.
  const hour = parts.hour === '24' ? '00' : parts.hour;
  return `${parts.year}-${parts.month}-${parts.day} ${t(`console.schedule.weekday.${weekday}`)} ${hour}:${parts.minute}`;
}
