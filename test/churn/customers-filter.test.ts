import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChurnRisk, type ChurnRisk } from '../../server/src/churn/index.ts';
import { createCustomers, type CustomersModule } from '../../server/src/customers/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { startAdminHarness, TIME_ZONE, TOKEN, type AdminHarness } from '../import/harness.ts';
import { serveModules, type ServedModules } from '../support/http.ts';

const NOW = new Date('2026-06-15T02:00:00Z');
const ago = (days: number) => new Date(NOW.getTime() - days * 86_400_000);
let admin: AdminHarness;
let churn: ChurnRisk;
let customers: CustomersModule;
let http: ServedModules;

beforeAll(async () => {
  admin = await startAdminHarness();
  const logger = createLogger({ level: 'silent' });
  churn = await createChurnRisk({ connection: admin.store.connection, contacts: admin.contacts, orders: admin.orderModel, logger, now: () => NOW });
  customers = await createCustomers({
    connection: admin.store.connection,
    contacts: admin.contacts,
    orders: admin.orderModel,
    pool: admin.pool,
    sop: admin.sop,
    adminGuard: requireAdmin(TOKEN),
    timeZone: TIME_ZONE,
    logger,
    now: () => NOW,
    churn: { idsInRange: (range) => churn.idsInRange(range), scoresOf: (ids) => churn.scoresOf(ids) },
  });
  http = await serveModules([customers.http]);
  await admin.contacts.Contact.create([
    { externalUserId: 'wm-calm', name: '常联系', lastActivityAt: ago(1) },
    { externalUserId: 'wm-gone', name: '已删除', lastActivityAt: ago(50) },
  ]);
  await admin.contacts.FollowRelation.create([
    { externalUserId: 'wm-calm', userId: 'lina', enteredAt: ago(60), addedAt: ago(60) },
    { externalUserId: 'wm-gone', userId: 'lina', status: 'lost', enteredAt: ago(60), addedAt: ago(60), removedAt: ago(3) },
  ]);
  for (const [id, days] of [['wm-calm', 1], ['wm-gone', 50], ['wm-gone', 57], ['wm-gone', 64]] as const) {
    await admin.pool.addTimeline({ externalUserId: id, at: ago(days), kind: 'message_in', key: `${id}:${days}` });
  }
  await churn.recomputeAll();
});
afterAll(async () => {
  customers?.stop();
  await http?.close();
  await admin?.close();
});

const list = async (query: string) => {
  const res = await fetch(`${http.base}/api/admin/contacts?${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { total: number; items: Array<{ externalUserId: string; risk: { score: number; reasons: Array<{ code: string }> } | null }> };
};

describe('churn risk in the customer list', () => {
  it('shows each customer’s risk as a column', async () => {
    const page = await list('sort=addedAt:desc');
    const gone = page.items.find((i) => i.externalUserId === 'wm-gone')!;
    expect(gone.risk!.score).toBe(80);
    expect(gone.risk!.reasons.map((r) => r.code)).toEqual(['silent_vs_rhythm', 'rep_deleted', 'replies_falling']);
    expect(page.items.find((i) => i.externalUserId === 'wm-calm')!.risk).toEqual({ score: 0, reasons: [] });
  });

  it('filters by minRisk/maxRisk, in the query and in a saved segment', async () => {
    expect((await list('minRisk=60')).items.map((i) => i.externalUserId)).toEqual(['wm-gone']);
    expect((await list('maxRisk=10')).items.map((i) => i.externalUserId)).toEqual(['wm-calm']);
    expect((await fetch(`${http.base}/api/admin/contacts?minRisk=101`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(400);
    expect(await customers.count({ minRisk: 60 })).toBe(1);
    expect(await customers.has({ minRisk: 60 }, 'wm-gone')).toBe(true);
    expect(await customers.has({ minRisk: 60 }, 'wm-calm')).toBe(false);
    const segment = await customers.models.Segment.create({ name: '高流失风险', filter: { minRisk: 60 } });
    expect(await customers.has({ segmentId: String(segment._id) }, 'wm-gone')).toBe(true);
    expect(await customers.count({ segmentId: String(segment._id) })).toBe(1);
  });
});
