import { DateTime } from 'luxon';
import type { Browser, Locator, Page } from 'playwright-core';
import { eventually } from './eventually.ts';

/**
 * The server's clock for an end-to-end test: real time running from the next 10:00 in `zone`, plus an
 * offset the test moves forward past a journey's waits or a read-back interval. Starting at 10:00
 * keeps every step of a test out of the default quiet hours (22:00–08:00), whenever CI runs.
 */
export function morningClock(zone: string): { now: () => Date; advance: (ms: number) => void } {
  const realStart = Date.now();
  const local = DateTime.fromMillis(realStart, { zone });
  const ten = local.set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
  const base = (ten <= local ? ten.plus({ days: 1 }) : ten).toMillis();
  let offset = 0;
  return {
    now: () => new Date(base + (Date.now() - realStart) + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** Waits until the locator's text satisfies the check, and says what it last saw if it never does. */
export async function textUntil(locator: Locator, check: (seen: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
  let seen = '';
  try {
    return await eventually(async () => {
      seen = ((await locator.first().textContent({ timeout: 2_000 }).catch(() => '')) ?? '').trim();
      return check(seen) ? seen : null;
    }, what, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message} (last text: ${JSON.stringify(seen)})`);
  }
}

/**
 * A console page as the e2e tests open it: a Chinese-speaking operator's 1280×1000 window in `timezoneId`,
 * every window.confirm recorded in `dialogs` (then accepted or dismissed) and every uncaught page error in `errors`.
 */
export async function openConsolePage(
  browser: Browser,
  opts: { timezoneId: string; dialogs: string[]; errors: string[]; confirm: 'accept' | 'dismiss' },
): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, locale: 'zh-CN', timezoneId: opts.timezoneId });
  page.on('dialog', (dialog) => {
    opts.dialogs.push(dialog.message());
    void (opts.confirm === 'accept' ? dialog.accept() : dialog.dismiss());
  });
  page.on('pageerror', (err) => opts.errors.push(err.message));
  return page;
}
