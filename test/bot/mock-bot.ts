import { createBot, type Bot, type BotDeps } from '../../server/src/bot/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { PACING } from './pacing.ts';

type Required = Pick<BotDeps, 'puppet' | 'connection' | 'pool' | 'contacts' | 'scripts' | 'tasks' | 'clock'>;

/**
 * A bot on wechaty-puppet-mock with the tests' defaults (silent logs, the test pacing, no tag rules,
 * every room managed), started and logged in. `login` runs once the bot has started and makes the
 * mock log in (the demo world does it by itself); the mock never resolves bot.ready(), so the login
 * event is what says the bot is up.
 */
export async function startMockBot(deps: Required & Partial<BotDeps> & { login?: (bot: Bot) => void }): Promise<Bot> {
  const { login, ...overrides } = deps;
  const bot = createBot({
    puppetName: 'wechaty-puppet-mock',
    logger: createLogger({ level: 'silent' }),
    pacing: PACING,
    loginTimeoutMs: 60_000,
    tagRules: [],
    managedRooms: [],
    ...overrides,
  });
  const loggedIn = new Promise((resolve) => bot.wechaty.once('login', resolve));
  await bot.start();
  login?.(bot);
  await loggedIn;
  return bot;
}
