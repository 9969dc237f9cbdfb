/** Loading a puppet package and stopping the bot: the parts of its life that fight the puppet libraries. */
import type { Logger } from '../observability/index.ts';
import type { Bot, Puppet } from './bot.ts';

/**
 * Loads a Wechaty puppet package by name. wechat4u (under wechaty-puppet-wechat4u) installs a global
 * uncaughtException handler that logs and swallows every crash; the handlers an import adds are
 * removed again, so this process keeps its own crash policy (log, exit, let the supervisor restart).
 */
export async function loadPuppet(name: string, token: string | undefined): Promise<Puppet> {
  const before = new Set(process.listeners('uncaughtException'));
  try {
    // A puppet package's default export is its Puppet class (wechat4u, service, padlocal, xp...).
    const module = (name === 'wechaty-puppet-wechat4u' ? await import('wechaty-puppet-wechat4u') : await import(name)) as {
      default: new (options?: { token?: string }) => Puppet;
    };
    return new module.default(token ? { token } : {});
  } finally {
    for (const listener of process.listeners('uncaughtException')) {
      if (!before.has(listener)) process.off('uncaughtException', listener);
    }
  }
}

/** bot.stop(), but never longer than the timeout: wechat4u's pending long-poll requests can hang it. */
export async function stopBot(bot: Bot, timeoutMs: number, logger: Logger): Promise<void> {
  // wechaty-puppet-wechat4u 1.14: wechat4u.stop() emits 'logout', whose handler in the puppet restarts
  // wechat4u after onStop() has dropped it — an unhandled TypeError that would turn every shutdown
  // into a crash exit. Nothing should restart while stopping, so that handler goes first.
  (bot.wechaty.puppet as unknown as { wechat4u?: { removeAllListeners(event: string): void } }).wechat4u?.removeAllListeners('logout');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    const outcome = await Promise.race([bot.stop().then(() => 'stopped' as const), timedOut]);
    if (outcome === 'timeout') logger.warn({ timeoutMs }, 'bot did not stop in time; going on with shutdown');
  } catch (err) {
    logger.error({ err }, 'bot stop failed; going on with shutdown');
  } finally {
    clearTimeout(timer);
  }
}
