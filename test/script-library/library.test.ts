import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAdmin } from '../../server/src/http/index.ts';
import { DEMO_SCRIPTS, ScriptLibrary, registerScriptModels, scriptsAdminModule } from '../../server/src/script-library/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';

const TOKEN = 'scripts-admin-token-0123';
let store: Awaited<ReturnType<typeof openTestStore>>;
let library: ScriptLibrary;
let server: ServedModules;
let base: string;

beforeAll(async () => {
  store = await openTestStore();
  library = new ScriptLibrary(registerScriptModels(store.connection));
  await library.init();
  server = await serveModules([scriptsAdminModule({ library, adminGuard: requireAdmin(TOKEN) })]);
  base = `${server.base}/api/admin/scripts`;
});
afterAll(async () => {
  await server.close();
  await store.dispose();
});

const call = (path: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

describe('script library', () => {
  it('seeds the demo library once and leaves operators edits alone on the next start', async () => {
    expect(await library.seed(DEMO_SCRIPTS)).toBe(DEMO_SCRIPTS.length);
    await library.put('trial', { category: '产品报价', title: '试用（改）', content: '改过的内容', faq: true });
    expect(await library.seed(DEMO_SCRIPTS)).toBe(0);
    expect((await library.get('trial'))?.title).toBe('试用（改）');
    expect((await library.faqEntries()).map((s) => s.key)).toContain('price-overview');
  });

  it('creates, lists by category, replaces and deletes through the admin API', async () => {
    const body = { category: '测试', title: '开场', content: '{{name}}您好', keywords: ['你好'], stages: ['new'] };
    expect((await call('/t-open', { method: 'PUT', body: JSON.stringify(body) })).status).toBe(201);
    expect((await call('/t-open', { method: 'PUT', body: JSON.stringify({ ...body, title: '开场白' }) })).status).toBe(200);
    const listed = (await (await call('?category=测试')).json()) as { scripts: Array<{ key: string; title: string }> };
    expect(listed.scripts).toEqual([expect.objectContaining({ key: 't-open', title: '开场白' })]);
    expect((await call('/t-open', { method: 'DELETE' })).status).toBe(204);
    expect((await call('/t-open')).status).toBe(404);
  });

  it('answers bad input with 400 naming the field, and refuses callers without the token', async () => {
    const bad = await call('/Bad Key!', { method: 'PUT', body: JSON.stringify({ category: 'x', title: 'y', content: 'z' }) });
    expect(bad.status).toBe(400);
    const wrongStage = await call('/ok-key', { method: 'PUT', body: JSON.stringify({ category: 'x', title: 'y', content: 'z', stages: ['vip'] }) });
    expect(wrongStage.status).toBe(400);
    expect(((await wrongStage.json()) as { message: string }).message).toMatch(/stages/);
    const unknownField = await call('/ok-key', { method: 'PUT', body: JSON.stringify({ category: 'x', title: 'y', content: 'z', $where: '1' }) });
    expect(unknownField.status).toBe(400);
    expect((await fetch(base)).status).toBe(401);
  });

  it('counts a use once per key, so a retried request is not counted twice', async () => {
    const use = { key: 'usage-0001-abcd', scriptKey: 'trial', action: 'send' as const, userId: 'zhangwei', externalUserId: 'wm1' };
    expect(await library.recordUsage(use)).toBe(true);
    expect(await library.recordUsage(use)).toBe(false);
    await library.recordUsage({ ...use, key: 'usage-0002-abcd', action: 'copy' });
    const counts = await library.usageCounts({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) });
    expect(counts).toEqual(
      expect.arrayContaining([
        { scriptKey: 'trial', action: 'send', count: 1 },
        { scriptKey: 'trial', action: 'copy', count: 1 },
      ]),
    );
  });
});
