import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactsAdminModule, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';

const TOKEN = 'admin-token-for-tests-0123';
let store: Awaited<ReturnType<typeof openTestStore>>;
let models: ContactModels;
let http: ServedModules;

interface Page {
  total: number;
  items: Array<{ externalUserId: string; name: string; reps: Array<{ userId: string; remark: string }> }>;
  nextCursor: string | null;
}

const list = async (query: string): Promise<{ status: number; body: Page & { message?: string } }> => {
  const res = await fetch(`${http.base}/api/admin/contacts?${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Page & { message?: string } };
};

beforeAll(async () => {
  store = await openTestStore();
  models = registerContactModels(store.connection);
  await Promise.all(Object.values(models).map((m) => m.init()));
  await models.Contact.create([
    { externalUserId: 'wm-a', name: '陈静', corpName: '云帆科技' },
    { externalUserId: 'wm-b', name: '孙丽', corpName: '速达物流', phone: '13800000001' },
    { externalUserId: 'wm-c', name: '王强', corpName: '(a.b)*' },
  ]);
  await models.FollowRelation.create({ externalUserId: 'wm-c', userId: 'lina', remark: '王总-重点' });
  http = await serveModules([contactsAdminModule({ models, adminGuard: requireAdmin(TOKEN) })]);
});

afterAll(async () => {
  await http?.close();
  await store?.dispose();
});

describe('GET /api/admin/contacts', () => {
  it('needs admin rights', async () => {
    expect((await fetch(`${http.base}/api/admin/contacts`)).status).toBe(401);
  });

  it('searches name, company, phone and a rep remark as plain text, with each match its reps', async () => {
    expect((await list('q=云帆')).body.items.map((c) => c.externalUserId)).toEqual(['wm-a']);
    expect((await list('q=13800000001')).body.items.map((c) => c.externalUserId)).toEqual(['wm-b']);
    const byRemark = (await list(`q=${encodeURIComponent('重点')}`)).body;
    expect(byRemark).toMatchObject({ total: 1, items: [{ externalUserId: 'wm-c', reps: [{ userId: 'lina', remark: '王总-重点' }] }] });
    // Regex characters are text, not a pattern.
    expect((await list(`q=${encodeURIComponent('(a.b)*')}`)).body.items.map((c) => c.externalUserId)).toEqual(['wm-c']);
  });

  it('pages with an opaque cursor, every contact once, also when contacts are added between pages', async () => {
    const first = (await list('limit=2')).body;
    expect(first.total).toBe(3);
    expect(first.items.map((c) => c.externalUserId)).toEqual(['wm-a', 'wm-b']);
    await models.Contact.create({ externalUserId: 'wm-0', name: '先到' });
    const second = (await list(`limit=2&cursor=${first.nextCursor}`)).body;
    expect(second.items.map((c) => c.externalUserId)).toEqual(['wm-c']);
    expect(second.nextCursor).toBeNull();
    const bad = await list('cursor=nonsense');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^cursor:/);
    expect((await list('limit=500')).status).toBe(400);
  });
});
