import type { Leadership } from '../leases/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Bot } from './bot.ts';
import { stopBot } from './lifecycle.ts';

/**
 * The bot as the work of lease `bot`: it starts (and logs in) when this instance takes the lease,
 * and is stopped completely before the lease can pass on, so one WeChat account is never logged
 * in twice. A stopped Wechaty does not start again, so the lease is taken `once` per process.
 */
export function botLeadership(bot: Bot, deps: { instance: string; stopTimeoutMs: number; logger: Logger }): Leadership {
  let starting: Promise<void> | null = null;
  return {
    start() {
      bot.status.leading(deps.instance);
      // In the background: a real puppet's start may wait on the network; the lease must keep renewing meanwhile.
      starting = bot.start();
    },
    async stop() {
      // Stopping a half-started puppet can leave it running: let the start settle first, within the same budget.
      if (starting) await Promise.race([starting, new Promise((resolve) => setTimeout(resolve, deps.stopTimeoutMs).unref())]);
      await stopBot(bot, deps.stopTimeoutMs, deps.logger);
    },
  };
}
