import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedDemoPool } from '../../server/src/demo/index.ts';
import { Importer } from '../../server/src/import/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { OrderBook, registerOrderModel } from '../../server/src/orders/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, planFromYaml, type SopHarness } from '../sop/harness.ts';

const logger = createLogger({ level: 'silent' });
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let h: SopHarness;
let orders: OrderBook;

beforeAll(async () => {
  store = await openTestStore();
  const clock = new TestClock(new Date('2026-11-23T02:00:00Z').getTime());
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  h = await buildSop(store.connection, sim, clock);
  const orderModel = registerOrderModel(store.connection);
  await orderModel.init();
  orders = new OrderBook({ orders: orderModel, contacts: h.contacts });
  // As main.ts wires it.
  orders.onOrderPlaced((order) => h.sop.engine.onOrderPlaced(order));
});
afterAll(async () => {
  await h?.sop.engine.stop();
  await sim?.close();
  await store?.dispose();
});
beforeEach(async () => {
  await Promise.all([h.sop.models.Plan.deleteMany({ builtIn: false }), h.sop.models.Enrollment.deleteMany({}), h.sop.models.Job.deleteMany({})]);
  await planFromYaml(h.sop, `
id: after-order
name: 下单关怀
trigger: { type: order_placed }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: thanks
    type: rep_task
    title: 感谢下单
`);
});

const enrolmentsOf = (externalUserId: string) => h.sop.models.Enrollment.find({ targetId: externalUserId }).lean();
const contactNamed = async (name: string) => (await h.contacts.Contact.findOne({ name }).lean())!;

describe('an order entering the pool enrols into order_placed plans, once per order', () => {
  it('an orders import enrols the buyer; importing the same file again enrols nobody again', async () => {
    const lin = await contactNamed('林涛');
    const csv = new TextEncoder().encode(`order_id,external_userid,amount,paid_at\nIMP-1,${lin.externalUserId},99,2026-11-20 10:00:00\n`);
    const importer = new Importer({ contacts: h.contacts, orders, timeZone: 'Asia/Shanghai' }, logger);
    expect(await importer.run('orders', csv)).toMatchObject({ inserted: 1, rejected: [] });
    expect(await enrolmentsOf(lin.externalUserId)).toHaveLength(1);
    expect(await importer.run('orders', csv)).toMatchObject({ inserted: 0, updated: 1 });
    expect(await enrolmentsOf(lin.externalUserId)).toHaveLength(1);
  });

  it('a second order of the same customer is a second occurrence', async () => {
    const wu = await contactNamed('吴敏');
    await orders.record({ orderId: 'API-1', externalUserId: wu.externalUserId, amountFen: 100, paidAt: new Date() });
    await orders.record({ orderId: 'API-1', externalUserId: wu.externalUserId, amountFen: 200, paidAt: new Date() });
    await orders.record({ orderId: 'API-2', externalUserId: wu.externalUserId, amountFen: 100, paidAt: new Date() });
    expect((await enrolmentsOf(wu.externalUserId)).map((e) => e.occurrence).sort()).toEqual(['order:API-1', 'order:API-2']);
  });

  it('the demo seed’s orders enrol their buyers too, and a restart (seeding again) adds none', async () => {
    const seed = () => seedDemoPool({ client: h.client, pool: h.pool, models: h.contacts, orders, tasks: h.tasks, logger });
    await seed();
    const huang = await contactNamed('黄婷');
    expect(await enrolmentsOf(huang.externalUserId)).toHaveLength(1);
    const total = await h.sop.models.Enrollment.countDocuments();
    await seed();
    expect(await h.sop.models.Enrollment.countDocuments()).toBe(total);
  });
});
