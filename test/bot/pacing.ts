import type { PacingRules } from '../../server/src/bot/pacer.ts';

/** The pacing the bot tests run under: 30 s per contact, 60 s per room, 10 s jitter, 20/min, quiet 22:00–08:00. */
export const PACING: PacingRules = {
  contactIntervalMs: 30_000,
  roomIntervalMs: 60_000,
  jitterMs: 10_000,
  ratePerMinute: 20,
  quietHours: { start: '22:00', end: '08:00' },
  timeZone: 'Asia/Shanghai',
};

/** 10:00 in Shanghai: outside the quiet hours. */
export const MORNING = Date.parse('2026-11-23T02:00:00Z');
