import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botPlaygroundModule, createDemoWorld, type Bot } from '../../server/src/bot/index.ts';
import { ContactPool, registerContactModels } from '../../server/src/contacts/index.ts';
import { DEMO_SCRIPTS, ScriptLibrary, registerScriptModels } from '../../server/src/script-library/index.ts';
import { registerRepTasks } from '../../server/src/tasks/index.ts';
import { webModule } from '../../server/src/web/index.ts';
import { launchChromium } from '../support/browser.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';
import { ManualClock } from './clock.ts';
import { startMockBot } from './mock-bot.ts';
import { MORNING, PACING } from './pacing.ts';

let store: Awaited<ReturnType<typeof openTestStore>>;
let bot: Bot;
let server: ServedModules;
let stopAdvancing: () => void;

beforeAll(async () => {
  store = await openTestStore();
  const contacts = registerContactModels(store.connection);
  await Promise.all(Object.values(contacts).map((m) => m.init()));
  const scripts = new ScriptLibrary(registerScriptModels(store.connection));
  await scripts.init();
  await scripts.seed(DEMO_SCRIPTS);
  const world = await createDemoWorld();
  const clock = new ManualClock(MORNING);
  stopAdvancing = clock.autoAdvance();
  // The demo world logs its account in by itself.
  bot = await startMockBot({
    puppet: world.puppet,
    connection: store.connection,
    pool: new ContactPool(contacts),
    contacts,
    scripts,
    tasks: registerRepTasks(store.connection),
    pacing: { ...PACING, jitterMs: 0, quietHours: null },
    clock,
  });
  server = await serveModules([botPlaygroundModule({ bot, world }), webModule()]);
});
afterAll(async () => {
  await server?.close();
  stopAdvancing();
  await bot?.stop();
  await store.dispose();
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${server.base}/api/bot-playground${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { outcome: string; replies: Array<{ text: string; inRoom: boolean }> } };
};

describe('the bot playground (demo mode)', () => {
  it('lets a newcomer chat with the demo bot: an FAQ answer, a room mention, a welcome, a hand-off and its resume', async () => {
    const info = (await (await fetch(`${server.base}/api/bot-playground`)).json()) as { bot: { state: string }; customer: { id: string }; suggestions: string[] };
    expect(info.bot.state).toBe('logged_in');
    expect(info.suggestions.length).toBeGreaterThan(0);

    const faq = await post('/messages', { text: '你好，请问专业版多少钱？' });
    expect(faq.body.outcome).toBe('answered');
    expect(faq.body.replies[0]!.text).toContain('专业版 3,980 元/年');

    const inRoom = await post('/messages', { text: '可以私有化部署吗？', inRoom: true });
    expect(inRoom.body).toMatchObject({ outcome: 'answered', replies: [{ inRoom: true }] });

    const welcome = await post('/join', { name: '新朋友' });
    expect(welcome.body.outcome).toBe('welcomed');
    expect(welcome.body.replies[0]!.text).toContain('欢迎新朋友加入「演示客户群」');

    expect((await post('/messages', { text: '转人工' })).body.outcome).toBe('handed_off');
    expect(await post('/messages', { text: '多少钱' })).toMatchObject({ body: { outcome: 'paused', replies: [] } });
    expect((await post('/resume', {})).body).toEqual({ resumed: true });
    expect((await post('/messages', { text: '多少钱' })).body.outcome).toBe('answered');
  });

  it('refuses a message that is not text', async () => {
    expect((await post('/messages', { text: '' })).status).toBe(400);
    expect((await post('/messages', { text: 'hi', extra: 1 })).status).toBe(400);
  });

  it('serves /bot-playground/: a click on a suggested question shows the bot answer in the chat', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.base}/bot-playground/`);
      await page.getByRole('button', { name: '可以私有化部署吗？' }).click();
      const answer = page.locator('[data-who="bot"]').last();
      await answer.waitFor();
      expect(await answer.textContent()).toContain('私有化');
      expect(await page.locator('[data-who="you"]').last().textContent()).toContain('可以私有化部署吗？');
    } finally {
      await browser.close();
    }
  });
});
