import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomers, type CustomersModule } from '../../server/src/customers/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { OrderBook, registerOrderModel } from '../../server/src/orders/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, planFromYaml, type SopHarness } from '../sop/harness.ts';

/**
 * Issue 14's last Done-when: a segment as an SOP audience is asked when each schedule slot enrols and
 * before each step, so a contact who matches only after others were enrolled is picked up, and one
 * who left it is let go.
 */
const MONDAY_09 = '2026-11-23T01:00:00Z'; // 09:00 in Asia/Shanghai
const DAY = 86_400_000;

let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let clock: TestClock;
let h: SopHarness;
let customers: CustomersModule;
let orders: OrderBook;
let segmentId: string;

beforeAll(async () => {
  store = await openTestStore();
  clock = new TestClock(new Date(MONDAY_09).getTime());
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  customers = undefined as unknown as CustomersModule; // assigned below, before the engine asks
  h = await buildSop(store.connection, sim, clock, {
    segments: { has: (id, externalUserId) => customers.has({ segmentId: id }, externalUserId), audience: (id) => customers.audience({ segmentId: id }) },
  });
  const orderModel = registerOrderModel(store.connection);
  await orderModel.init();
  orders = new OrderBook({ orders: orderModel, contacts: h.contacts });
  customers = await createCustomers({
    connection: store.connection,
    contacts: h.contacts,
    orders: orderModel,
    pool: h.pool,
    sop: h.sop.models,
    adminGuard: requireAdmin('unused-admin-token-0123456789'),
    timeZone: 'Asia/Shanghai',
    logger: createLogger({ level: 'silent' }),
    now: clock.now,
  });
  const segment = await customers.models.Segment.create({ name: '已下单', filter: { minOrders: 1, status: 'active' } });
  segmentId = String(segment._id);
});
afterAll(async () => {
  await h?.sop.engine.stop();
  await sim?.close();
  await store?.dispose();
});

const contactNamed = async (name: string) => (await h.contacts.Contact.findOne({ name }).lean())!.externalUserId;
const buy = (externalUserId: string, orderId: string) => orders.record({ orderId, externalUserId, amountFen: 9_900, paidAt: clock.now() });
const enrolled = async () => (await h.sop.models.Enrollment.find({}, { targetId: 1, occurrence: 1 }).lean()).map((e) => `${e.targetId}@${e.occurrence.slice(3, 13)}`);

describe('audience.segment in SOP plans', () => {
  it('enrols by the segment as it is at each slot and re-checks it before every step', async () => {
    const chen = await contactNamed('陈静');
    const other = (await h.contacts.FollowRelation.findOne({ status: 'active', externalUserId: mongoose.trusted({ $ne: chen }) }).lean())!.externalUserId;
    await buy(chen, 'SEG-1');
    const plan = await planFromYaml(
      h.sop,
      `
id: seg-daily
name: 已购客户每日跟进
trigger: { type: schedule, cron: "0 10 * * *" }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: hello
    type: mass_send
    content: { text: "感谢购买" }
  - id: later
    type: mass_send
    after: { days: 2 }
    content: { text: "用得怎么样？" }
`,
    );
    // Slots count from here (not from the real-clock updatedAt mongoose stamped).
    await h.sop.models.Plan.updateOne({ _id: plan._id }, { $set: { 'audience.segment': segmentId, scheduledThrough: new Date('2026-11-23T01:30:00Z') } });

    clock.set('2026-11-23T02:00:30Z'); // Monday 10:00: only 陈静 has bought
    await h.sop.engine.tick();
    expect(await enrolled()).toEqual([`${chen}@2026-11-23`]);
    await h.sop.engine.worker.drain();

    // Enrolment began; now another customer buys and so joins the segment: the next slot picks them up.
    await buy(other, 'SEG-2');
    clock.set('2026-11-24T02:00:30Z');
    await h.sop.engine.tick();
    expect((await enrolled()).sort()).toEqual([`${chen}@2026-11-23`, `${chen}@2026-11-24`, `${other}@2026-11-24`].sort());

    // 陈静 leaves the segment (her relation is lost): her next step exits instead of sending.
    await h.contacts.FollowRelation.updateMany({ externalUserId: chen }, { $set: { status: 'lost' } });
    clock.advance(2 * DAY);
    await h.sop.engine.worker.drain();
    const later = await h.sop.models.Job.find({ stepId: 'later', targetId: chen }).lean();
    expect(later.length).toBeGreaterThan(0);
    for (const job of later) expect(job).toMatchObject({ outcome: 'exited', detail: { reason: 'no longer in the audience segment' } });
    const otherLater = await h.sop.models.Job.findOne({ stepId: 'hello', targetId: other }).lean();
    expect(otherLater?.outcome).not.toBe('exited');
  });
});
