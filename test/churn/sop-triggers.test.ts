import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChurnRisk } from '../../server/src/churn/index.ts';
import type { OrderModel } from '../../server/src/orders/index.ts';
import { createLogger, createMetrics } from '../../server/src/observability/index.ts';
import { workFieldsFor } from '../../server/src/queue/index.ts';
import { createWecomIntegration, type WecomIntegration } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { parseTemplate } from '../../server/src/sop/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, planFromYaml, type SopHarness } from '../sop/harness.ts';
import { buildChurn } from './harness.ts';

const T0 = '2026-09-01T02:00:00Z';
const DAY = 86_400_000;
const at = (day: number) => new Date(new Date(T0).getTime() + day * DAY);

let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let clock: TestClock;
let h: SopHarness;
let churn: ChurnRisk;
let wecom: WecomIntegration;
let orders: OrderModel;

const CHURN_PLAN = `id: churn-care
name: 流失预警关怀
trigger: { type: churn_risk, threshold: 60 }
steps:
  - id: call
    type: rep_task
    title: 回访流失风险客户
`;
const LOST_PLAN = `id: lost-winback
name: 删除挽回
trigger: { type: contact_lost }
steps:
  - id: call
    type: rep_task
    title: 客户删除了你，尝试挽回
`;

beforeAll(async () => {
  store = await openTestStore();
  clock = new TestClock(new Date(T0).getTime());
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  h = await buildSop(store.connection, sim, clock);
  ({ churn, orders } = await buildChurn(store.connection, h, clock));
  wecom = createWecomIntegration({
    connection: store.connection,
    secrets: { token: sim.corp.token, encodingAesKey: sim.corp.encodingAesKey, corpId: sim.corp.corpId },
    client: h.client,
    pool: h.pool,
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    onContactLost: async (event) => {
      await h.sop.engine.onContactLost(event);
      await churn.recompute([event.externalUserId]);
    },
  });
  await wecom.inbox.init();
});
afterAll(async () => {
  await h?.sop.engine.stop();
  await sim?.close();
  await store?.dispose();
});
beforeEach(async () => {
  clock.set(T0);
  await Promise.all([h.sop.models.Plan.deleteMany({ builtIn: false }), h.sop.models.Job.deleteMany({}), h.sop.models.Enrollment.deleteMany({})]);
});

/** A customer of lina's who writes every 7 days from day 0 to day 56 and bought once on day 0. */
async function weeklyCustomer(id: string) {
  await h.pool.upsertFromWecom({ externalUserId: id, name: `客户${id}`, type: 1, follows: [{ userId: 'lina', addedAt: at(0), tagIds: [] }] }, at(0));
  for (let day = 0; day <= 56; day += 7) await h.pool.addTimeline({ externalUserId: id, userId: 'lina', at: at(day), kind: 'message_in', key: `${id}:msg:${day}` });
  await orders.create({ orderId: `${id}:order:0`, externalUserId: id, amountFen: 19_900, paidAt: at(0) });
}

describe('churn_risk trigger', () => {
  it('is validated in the template schema with clear errors', () => {
    expect(parseTemplate(CHURN_PLAN, 'churn-care.yaml').trigger).toEqual({ type: 'churn_risk', threshold: 60 });
    expect(parseTemplate(CHURN_PLAN.replace(', threshold: 60', ''), 'churn-care.yaml').trigger).toEqual({ type: 'churn_risk', threshold: 60 });
    expect(() => parseTemplate(CHURN_PLAN.replace('threshold: 60', 'threshold: 140'), 'churn-care.yaml')).toThrow(/at most 100/);
    expect(() => parseTemplate(CHURN_PLAN.replace('threshold: 60', 'days: 3'), 'churn-care.yaml')).toThrow(/days/);
    expect(parseTemplate(LOST_PLAN, 'lost-winback.yaml').trigger).toEqual({ type: 'contact_lost' });
  });

  it('enrols a contact once per crossing: recomputing twice adds nothing, crossing again later is a new journey', async () => {
    const plan = await planFromYaml(h.sop, CHURN_PLAN);
    const id = 'wmChurnWeekly';
    await weeklyCustomer(id);
    const enrolments = () => h.sop.models.Enrollment.find({ planId: plan._id, targetId: id }).sort({ enrolledAt: 1 }).lean();

    clock.set(at(60).toISOString());
    expect((await churn.recompute([id])).get(id)!.score).toBeLessThan(60);
    expect(await enrolments()).toHaveLength(0);

    // Silent 30 days against a 7-day rhythm, replies stopped, the repurchase (90 days) due in 4 days.
    clock.set(at(86).toISOString());
    const crossed = (await churn.recompute([id])).get(id)!;
    expect(crossed.score).toBeGreaterThanOrEqual(60);
    expect(crossed.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['silent_vs_rhythm', 'replies_falling', 'renewal_due_no_reply']));
    await churn.recompute([id]);
    clock.advance(3_600_000);
    await churn.recompute([id]);
    expect(await enrolments()).toHaveLength(1);
    expect((await enrolments())[0]).toMatchObject({ occurrence: `churn:60:${at(86).toISOString().slice(0, 10)}`, userId: 'lina' });

    // The customer writes again: the score falls below, then a new silent spell and a group left cross it once more.
    clock.set(at(87).toISOString());
    await h.pool.addTimeline({ externalUserId: id, userId: 'lina', at: at(87), kind: 'message_in', key: `${id}:msg:87` });
    expect((await churn.recompute([id])).get(id)!.score).toBeLessThan(60);
    await h.pool.addTimeline({ externalUserId: id, userId: null, at: at(125), kind: 'left_group', key: `${id}:left:125`, data: { chatId: 'wrX' } });
    clock.set(at(130).toISOString());
    expect((await churn.recompute([id])).get(id)!.score).toBeGreaterThanOrEqual(60);
    await churn.recompute([id]);
    const after = await enrolments();
    expect(after.map((e) => e.occurrence)).toEqual([`churn:60:${at(86).toISOString().slice(0, 10)}`, `churn:60:${at(130).toISOString().slice(0, 10)}`]);
    expect(await churn.scoreOf(id)).toMatchObject({ computedAt: at(130) });
  });

  it('a higher threshold is not reached by the same contact', async () => {
    const plan = await planFromYaml(h.sop, CHURN_PLAN.replace('threshold: 60', 'threshold: 95'));
    const id = 'wmChurnHigh';
    await weeklyCustomer(id);
    clock.set(at(86).toISOString());
    const { score } = (await churn.recompute([id])).get(id)!;
    expect(score).toBeLessThan(95);
    expect(await h.sop.models.Enrollment.countDocuments({ planId: plan._id })).toBe(0);
  });
});

describe('contact_lost trigger', () => {
  it('enrols on del_follow_user once, even when WeCom delivers the callback twice', async () => {
    const plan = await planFromYaml(h.sop, LOST_PLAN);
    const id = 'wmLostOne';
    await h.pool.upsertFromWecom({ externalUserId: id, name: '将流失', type: 1, follows: [{ userId: 'lina', addedAt: at(0), tagIds: [] }] }, at(0));
    clock.set(at(10).toISOString());
    const fields = { ToUserName: sim.corp.corpId, FromUserName: 'sys', CreateTime: String(Math.floor(at(10).getTime() / 1000)), MsgType: 'event', Event: 'change_external_contact', ChangeType: 'del_follow_user', UserID: 'lina', ExternalUserID: id };
    for (const key of ['lost-1', 'lost-1-replayed']) {
      await wecom.inbox.create({ key, event: 'change_external_contact', changeType: 'del_follow_user', fields, receivedAt: at(10), ...workFieldsFor(at(10)) });
    }
    await wecom.worker.drain();
    expect(await h.contacts.FollowRelation.findOne({ externalUserId: id, userId: 'lina' }).lean()).toMatchObject({ status: 'lost' });
    const enrolled = await h.sop.models.Enrollment.find({ planId: plan._id, targetId: id }).lean();
    expect(enrolled).toHaveLength(1);
    expect(enrolled[0]).toMatchObject({ userId: 'lina', occurrence: `lost:lina:${at(10).toISOString()}` });
    // The loss is scored at once, without waiting for the daily run.
    expect((await churn.scoreOf(id))!.reasons.map((r) => r.code)).toContain('rep_deleted');
  });
});

describe('the scoring passes', () => {
  it('score nothing on an instance that does not hold the lease, and on the leader rescore only contacts that changed', async () => {
    const id = 'wmPasses';
    await weeklyCustomer(id);
    clock.set(at(60).toISOString());
    expect(await churn.tick('minute', () => false)).toBe(0);
    expect(await churn.tick('daily', () => false)).toBe(0);
    const everyone = await h.contacts.Contact.countDocuments({});
    // The leader's first minute pass has no watermark yet: it scores everyone, then only what moved.
    expect(await churn.tick('minute', () => true)).toBe(everyone);
    clock.advance(60_000);
    expect(await churn.tick('minute', () => true)).toBe(0);
    await h.pool.addTimeline({ externalUserId: id, userId: 'lina', at: clock.now(), kind: 'message_in', key: `${id}:msg:late` });
    clock.advance(60_000);
    expect(await churn.tick('minute', () => true)).toBe(1);
    expect(await churn.tick('daily', () => true)).toBe(everyone);
  });
});
