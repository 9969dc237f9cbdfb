/**
 * Customer bot: (1) reply latency for 1,000 incoming FAQ questions through wechaty-puppet-mock,
 * one at a time (customer says it → the bot's answer has left, recorded on both timelines and in
 * script usage); (2) memory of an idle logged-in bot. The account-wide rate limit is lifted here
 * (as the other benches lift WeCom's quota): it measures the bot, not the anti-ban pacing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pathToFileURL } from 'node:url';
import type { Bot, Handled } from '../../server/src/bot/index.ts';
import { ContactPool, registerContactModels } from '../../server/src/contacts/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { DEMO_SCRIPTS, ScriptLibrary, registerScriptModels } from '../../server/src/script-library/index.ts';
import { openStore } from '../../server/src/store/index.ts';
import { registerRepTasks } from '../../server/src/tasks/index.ts';
import { machineLine, percentile } from './machine.ts';

const MESSAGES = Number(process.env.BENCH_BOT_MESSAGES ?? 1_000);
const CUSTOMERS = 100;
const QUESTIONS = ['请问专业版多少钱？', '可以免费试用吗', '支持私有化部署吗', '续费有优惠吗', '价格是多少'];

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const delta = (bytes: number) => `${bytes < 0 ? '−' : '+'}${mib(Math.abs(bytes))}`;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage();
};

export async function main(): Promise<void> {
  const logger = createLogger({ level: 'silent' });
  const store = await openStore({ kind: 'embedded', port: 0, dbPath: null, fsync: 'never', thread: true }, logger);
  let bot: Bot | undefined;
  try {
    const contacts = registerContactModels(store.connection);
    await Promise.all(Object.values(contacts).map((m) => m.init()));
    const scripts = new ScriptLibrary(registerScriptModels(store.connection));
    await scripts.init();
    await scripts.seed(DEMO_SCRIPTS);
    const tasks = registerRepTasks(store.connection);
    await tasks.init();
    const before = await settle();
    // Loaded only now, so the memory figure includes Wechaty itself (when this bench runs on its own).
    const { PuppetMock, mock } = await import('wechaty-puppet-mock');
    const { createBot } = await import('../../server/src/bot/index.ts');
    const loaded = await settle();

    const mocker = new mock.Mocker();
    const user = mocker.createContact({ name: '小微' });
    bot = createBot({
      puppet: new PuppetMock({ mocker }),
      puppetName: 'wechaty-puppet-mock',
      connection: store.connection,
      pool: new ContactPool(contacts),
      contacts,
      scripts,
      tasks,
      logger,
      pacing: { contactIntervalMs: 0, roomIntervalMs: 0, jitterMs: 0, ratePerMinute: 1e9, quietHours: null, timeZone: 'Asia/Shanghai' },
      loginTimeoutMs: 60_000,
      tagRules: [{ tag: 'A类-高意向', keywords: ['多少钱', '价格'] }],
      managedRooms: [],
    });
    const loggedIn = new Promise((resolve) => bot!.wechaty.once('login', resolve));
    await bot.start();
    mocker.login(user);
    await loggedIn;
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => mocker.createContact({ name: `客户${i}`, phone: [] }));
    await new Promise((r) => setTimeout(r, 2_000)); // idle, logged in
    const idle = await settle();

    const latencies: number[] = [];
    const outcomes = new Map<string, number>();
    const started = performance.now();
    for (let i = 0; i < MESSAGES; i++) {
      const customer = customers[i % CUSTOMERS]!;
      const t = performance.now();
      const done = new Promise<Handled['outcome']>((resolve) => {
        const listener = (h: Handled) => {
          if (h.talkerId !== customer.id) return;
          bot!.events.off('handled', listener);
          resolve(h.outcome);
        };
        bot!.events.on('handled', listener);
      });
      customer.say(QUESTIONS[i % QUESTIONS.length]).to(user);
      const outcome = await done;
      latencies.push(performance.now() - t);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const afterLoad = await settle();

    const rows = [
      {
        measure: `reply latency, ${MESSAGES.toLocaleString()} FAQ questions one at a time (${CUSTOMERS} customers)`,
        result: `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
        note: `${(MESSAGES / elapsed).toFixed(0)} messages/s; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; per message: message_in + message_out, script usage, keyword tag`,
      },
      {
        measure: 'memory of an idle logged-in bot (mock puppet)',
        result: `heap ${delta(idle.heapUsed - loaded.heapUsed)}, RSS ${delta(idle.rss - loaded.rss)}; loading Wechaty + the bot module: heap ${delta(loaded.heapUsed - before.heapUsed)}, RSS ${delta(loaded.rss - before.rss)}`,
        note: `after 2 s idle, GC'd (RSS moves by a few MiB either way on its own); loading cost is measured standalone only (in run-all an earlier bench has loaded Wechaty); process RSS ${mib(idle.rss)}, heap ${mib(idle.heapUsed)}, embedded store on its thread included`,
      },
    ];
    console.log(`\nCustomer bot — ${machineLine()}`);
    console.table(rows);
  } finally {
    await bot?.stop();
    await store.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
