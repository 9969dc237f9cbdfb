import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactsAdminModule } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { OrderBook, registerOrderModel } from '../../server/src/orders/index.ts';
import { stagesOf } from '../../server/src/sop/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';
import { SOP_ADMIN_TOKEN, TestClock, buildSop, planFromYaml, type SopHarness } from '../sop/harness.ts';

let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let h: SopHarness;
let http: ServedModules;
const clock = new TestClock(new Date('2026-11-23T02:00:00Z').getTime());

const call = async <T>(method: string, path: string, body?: unknown) => {
  const res = await fetch(`${http.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${SOP_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
};

interface Alert { id: string; externalUserId: string; name: string; userId: string; stage: string | null; orders: number; spentFen: number; wonBack: { planId: string } | null }

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  h = await buildSop(store.connection, sim, clock);
  const orders = new OrderBook({ orders: registerOrderModel(store.connection), contacts: h.contacts });
  http = await serveModules([
    contactsAdminModule({
      models: h.contacts,
      adminGuard: requireAdmin(SOP_ADMIN_TOKEN),
      lists: {
        now: clock.now,
        describe: async (ids) => {
          const [stages, totals] = await Promise.all([stagesOf(h.contacts, ids, clock.now()), orders.totalsOf(ids)]);
          return new Map(ids.map((id) => [id, { stage: stages.get(id)!, orders: totals.get(id)?.orders ?? 0, spentFen: totals.get(id)?.spentFen ?? 0 }]));
        },
        winBack: (input) => h.sop.actions.winBack(input),
        plansPushingTo: (chatIds) => h.sop.actions.plansPushingTo(chatIds),
      },
    }),
  ]);
  const lost = (await h.contacts.FollowRelation.findOne({ status: 'active' }).lean())!;
  await orders.record({ orderId: 'o-lost-1', externalUserId: lost.externalUserId, amountFen: 129_900, paidAt: clock.now() });
  await h.pool.endFollow({ externalUserId: lost.externalUserId, userId: lost.userId, status: 'lost', at: clock.now(), key: 'del:test' });
});

afterAll(async () => {
  await h?.sop.engine.stop();
  await http?.close();
  await sim?.close();
  await store?.dispose();
});

const WINBACK = `
id: winback-test
name: 挽回测试
trigger: { type: contact_silent, days: 30 }
steps:
  - id: offer
    type: rep_task
    title: 回访流失客户
`;

describe('churn alerts and win-back', () => {
  it('lists who deleted which rep, with their stage and value', async () => {
    const { body } = await call<{ items: Alert[]; nextCursor: string | null }>('GET', '/api/admin/churn-alerts');
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ name: expect.any(String), orders: 1, spentFen: 129_900, wonBack: null });
    expect(body.items[0]!.name).not.toBe('');
    expect(body.nextCursor).toBeNull();
  });

  it('enrols the lost customer in a chosen plan once per alert, and refuses plans that cannot', async () => {
    const [alert] = (await call<{ items: Alert[] }>('GET', '/api/admin/churn-alerts')).body.items;
    const plan = await planFromYaml(h.sop, WINBACK);
    expect((await call('POST', `/api/admin/churn-alerts/${alert!.id}/win-back`, { planId: String(plan._id) })).body).toEqual({ enrolled: true });
    expect((await call('POST', `/api/admin/churn-alerts/${alert!.id}/win-back`, { planId: String(plan._id) })).body).toEqual({ enrolled: false });
    expect(await h.sop.models.Enrollment.countDocuments({ planId: plan._id, targetId: alert!.externalUserId })).toBe(1);
    const after = (await call<{ items: Alert[] }>('GET', '/api/admin/churn-alerts')).body.items[0]!;
    expect(after.wonBack).toMatchObject({ planId: String(plan._id) });

    await h.sop.models.Plan.updateOne({ _id: plan._id }, { $set: { enabled: false } });
    const off = await call<{ message: string }>('POST', `/api/admin/churn-alerts/${alert!.id}/win-back`, { planId: String(plan._id) });
    expect(off.status).toBe(400);
    expect(off.body.message).toMatch(/^planId: "挽回测试" is switched off/);
    expect((await call('POST', `/api/admin/churn-alerts/${alert!.id}/win-back`, { planId: 'nope' })).status).toBe(400);
    expect((await call('POST', `/api/admin/churn-alerts/${'0'.repeat(24)}/win-back`, { planId: String(plan._id) })).status).toBe(404);
  });
});

describe('customer groups', () => {
  it('lists each group with its owner, members, this week’s joins and leaves, and the group plans pushing to it', async () => {
    const group = (await h.contacts.CustomerGroup.findOne({ status: 'active' }).lean())!;
    await h.pool.addTimeline({ externalUserId: 'wm-someone', at: clock.now(), kind: 'joined_group', key: 'join:test', data: { chatId: group.chatId } });
    const weekly = await h.sop.models.Plan.create({
      name: '社群周推送',
      templateId: 'group-weekly',
      template: h.sop.templates.find((t) => t.id === 'group-weekly')!,
      timeZone: 'Asia/Shanghai',
      enabled: true,
    });
    const { body } = await call<{ items: Array<{ chatId: string; owner: string; members: number; joinedThisWeek: number; leftThisWeek: number; plans: Array<{ id: string }> }> }>('GET', '/api/admin/groups');
    const row = body.items.find((g) => g.chatId === group.chatId)!;
    expect(row).toMatchObject({ owner: group.owner, members: group.memberCount, joinedThisWeek: 1, leftThisWeek: 0, plans: [{ id: String(weekly._id) }] });
  });
});
