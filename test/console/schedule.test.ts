import { describe, expect, it } from 'vitest';
import { defaultSchedule, runLabel, scheduleFromTrigger, scheduleWords, triggerFromSchedule } from '../../sidebar/src/shared/schedule.ts';
import { translator } from './i18n.ts';

const zh = translator('zh-CN');
const en = translator('en');

describe('schedule picker ↔ trigger', () => {
  it('turns each picker form into the cron or at the server stores', () => {
    const base = defaultSchedule();
    expect(triggerFromSchedule({ ...base, kind: 'daily', time: '09:05' })).toEqual({ type: 'schedule', cron: '5 9 * * *' });
    expect(triggerFromSchedule({ ...base, kind: 'weekly', time: '10:00', weekdays: [4, 1, 4] })).toEqual({ type: 'schedule', cron: '0 10 * * 1,4' });
    expect(triggerFromSchedule({ ...base, kind: 'monthly', time: '20:30', dayOfMonth: 15 })).toEqual({ type: 'schedule', cron: '30 20 15 * *' });
    expect(triggerFromSchedule({ ...base, kind: 'once', at: '2026-12-12T20:00' })).toEqual({ type: 'schedule', at: '2026-12-12T20:00' });
  });

  it('reads cron and at back into the picker', () => {
    expect(scheduleFromTrigger({ type: 'schedule', cron: '0 10 * * 1,4' })).toMatchObject({ kind: 'weekly', time: '10:00', weekdays: [1, 4] });
    expect(scheduleFromTrigger({ type: 'schedule', cron: '0 9 * * 1-5' })).toMatchObject({ kind: 'weekly', weekdays: [1, 2, 3, 4, 5] });
    expect(scheduleFromTrigger({ type: 'schedule', cron: '0 9 * * 7' })).toMatchObject({ kind: 'weekly', weekdays: [0] });
    expect(scheduleFromTrigger({ type: 'schedule', cron: '30 8 * * *' })).toMatchObject({ kind: 'daily', time: '08:30' });
    expect(scheduleFromTrigger({ type: 'schedule', cron: '0 10 1 * *' })).toMatchObject({ kind: 'monthly', dayOfMonth: 1 });
    expect(scheduleFromTrigger({ type: 'schedule', at: '2026-12-12T20:00' })).toMatchObject({ kind: 'once', at: '2026-12-12T20:00' });
    // What the picker cannot show is kept as it is, not silently rewritten.
    expect(scheduleFromTrigger({ type: 'schedule', cron: '0 10 3 12 *' })).toMatchObject({ kind: 'custom', cron: '0 10 3 12 *' });
    expect(scheduleFromTrigger({ type: 'schedule', cron: '*/15 * * * *' })).toMatchObject({ kind: 'custom' });
    expect(triggerFromSchedule(scheduleFromTrigger({ type: 'schedule', cron: '*/15 * * * *' }))).toEqual({ type: 'schedule', cron: '*/15 * * * *' });
  });

  it('round-trips every picker form', () => {
    for (const cron of ['0 10 * * 1,4', '5 9 * * *', '30 20 15 * *', '0 0 * * 0,6']) {
      expect(triggerFromSchedule(scheduleFromTrigger({ type: 'schedule', cron }))).toEqual({ type: 'schedule', cron });
    }
  });
});

describe('schedule in words', () => {
  it('reads like an operator would say it', () => {
    expect(scheduleWords({ type: 'schedule', cron: '0 10 * * 1,4' }, zh)).toBe('每周一、周四 10:00');
    expect(scheduleWords({ type: 'schedule', cron: '0 10 * * 0,1' }, zh)).toBe('每周一、周日 10:00');
    expect(scheduleWords({ type: 'schedule', cron: '0 9 * * 1-5' }, zh)).toBe('工作日 09:00');
    expect(scheduleWords({ type: 'schedule', cron: '0 9 * * *' }, zh)).toBe('每天 09:00');
    expect(scheduleWords({ type: 'schedule', cron: '0 10 1 * *' }, zh)).toBe('每月 1 日 10:00');
    expect(scheduleWords({ type: 'schedule', cron: '0 10 3 12 *' }, zh)).toBe('每年 12 月 3 日 10:00');
    expect(scheduleWords({ type: 'schedule', at: '2026-12-12T20:00' }, zh)).toBe('仅一次 2026-12-12 20:00');
    expect(scheduleWords({ type: 'schedule', cron: '*/15 * * * *' }, zh)).toBe('按规则 */15 * * * *');
  });

  it('has an English sentence too', () => {
    expect(scheduleWords({ type: 'schedule', cron: '0 10 * * 1,4' }, en)).toBe('Every Mon, Thu 10:00');
    expect(scheduleWords({ type: 'schedule', at: '2026-12-12T20:00' }, en)).toBe('Once, 2026-12-12 20:00');
  });

  it('shows a run in the plan time zone, not the browser one', () => {
    expect(runLabel('2026-12-07T02:00:00.000Z', 'Asia/Shanghai', zh)).toBe('2026-12-07 周一 10:00');
    expect(runLabel('2026-12-07T02:00:00.000Z', 'UTC', zh)).toBe('2026-12-07 周一 02:00');
  });
});
