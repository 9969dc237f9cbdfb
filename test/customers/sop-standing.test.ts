import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomers, type CustomersModule } from '../../server/src/customers/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { registerOrderModel } from '../../server/src/orders/index.ts';
import { registerSidebarModels, setStageOverride } from '../../server/src/sidebar-api/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, planFromYaml, type SopHarness } from '../sop/harness.ts';

/**
 * One notion of stage and score: a rep's stage override (with who and when) and the lead score the
 * sidebar shows decide SOP audiences and branches exactly as they decide the customer list.
 */
const DAY = 86_400_000;
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let clock: TestClock;
let h: SopHarness;
let customers: CustomersModule;

beforeAll(async () => {
  store = await openTestStore();
  clock = new TestClock(new Date('2026-11-23T02:00:00Z').getTime());
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  customers = undefined as unknown as CustomersModule; // assigned below, before the engine asks
  h = await buildSop(store.connection, sim, clock, { standing: (ids, at) => customers.standing(ids, at) });
  const orders = registerOrderModel(store.connection);
  await orders.init();
  customers = await createCustomers({
    connection: store.connection,
    contacts: h.contacts,
    orders,
    pool: h.pool,
    sop: h.sop.models,
    adminGuard: requireAdmin('unused-admin-token-0123456789'),
    timeZone: 'Asia/Shanghai',
    logger: createLogger({ level: 'silent' }),
    now: clock.now,
  });
});
afterAll(async () => {
  await h?.sop.engine.stop();
  await sim?.close();
  await store?.dispose();
});

const tagId = async (name: string) => (await h.contacts.Tag.findOne({ name }).lean())!.tagId;
const relationOf = async (name: string) => {
  const { externalUserId } = (await h.contacts.Contact.findOne({ name }).lean())!;
  return (await h.contacts.FollowRelation.findOne({ externalUserId, status: 'active' }).lean())!;
};
const override = (externalUserId: string, stage: 'repeat' | 'dormant' | null) =>
  setStageOverride({ sidebar: registerSidebarModels(store.connection), pool: h.pool }, { externalUserId, stage, userId: 'zhangwei', at: clock.now() });
const enrolled = async (planId: Types.ObjectId) => (await h.sop.models.Enrollment.find({ planId }, { targetId: 1 }).lean()).map((e) => e.targetId);

describe('SOP audiences and branches see the stage in force and the lead score', () => {
  it('a rep’s stage override puts a contact in (or out of) a stage audience of a triggered plan', async () => {
    const plan = await planFromYaml(h.sop, `
id: vip-care
name: 老客关怀
trigger: { type: contact_tagged, tag: 活跃 }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - { id: call, type: rep_task, title: 老客回访 }
`, { stages: ['repeat'] });
    const lin = await relationOf('林涛');
    expect((await customers.standing([lin.externalUserId], clock.now())).get(lin.externalUserId)?.stage).not.toBe('repeat');
    const active = await tagId('活跃');
    await h.sop.engine.onContactTagged({ externalUserId: lin.externalUserId, userId: lin.userId, tagIds: [active], at: clock.now() });
    expect(await enrolled(plan._id)).toEqual([]);

    await override(lin.externalUserId, 'repeat');
    const overriddenAt = clock.now();
    clock.advance(60_000);
    await h.sop.engine.onContactTagged({ externalUserId: lin.externalUserId, userId: lin.userId, tagIds: [active], at: clock.now() });
    expect(await enrolled(plan._id)).toEqual([lin.externalUserId]);
    // Who overrode it and when are kept with it.
    expect(await registerSidebarModels(store.connection).StageOverride.findOne({ externalUserId: lin.externalUserId }).lean()).toMatchObject({ stage: 'repeat', userId: 'zhangwei', at: overriddenAt });
    await override(lin.externalUserId, null);
  });

  it('filters a scheduled audience by minScore / maxScore, by the score the sidebar shows', async () => {
    const plan = await planFromYaml(h.sop, `
id: hot-leads
name: 高分线索
trigger: { type: schedule, cron: "0 10 * * *" }
steps:
  - { id: call, type: rep_task, title: 高分线索跟进 }
`);
    const everyone = await h.sop.engine.audienceTargets(plan);
    const scores = await customers.standing(everyone.map((t) => t.id), clock.now());
    const values = [...scores.values()].map((s) => s.score).sort((a, b) => a - b);
    // A bound between the lowest and the highest score, so both sides are non-empty.
    const bound = values[Math.floor(values.length / 2)]!;
    expect(values[0]).toBeLessThan(bound);
    const high = everyone.filter((t) => scores.get(t.id)!.score >= bound).map((t) => t.id).sort();
    const low = everyone.filter((t) => scores.get(t.id)!.score <= bound).map((t) => t.id).sort();

    await h.sop.models.Plan.updateOne({ _id: plan._id }, { $set: { 'audience.minScore': bound } });
    const withMin = (await h.sop.models.Plan.findById(plan._id))!;
    expect((await h.sop.engine.audienceTargets(withMin)).map((t) => t.id).sort()).toEqual(high);
    await h.sop.models.Plan.updateOne({ _id: plan._id }, { $set: { 'audience.minScore': null, 'audience.maxScore': bound } });
    const withMax = (await h.sop.models.Plan.findById(plan._id))!;
    expect((await h.sop.engine.audienceTargets(withMax)).map((t) => t.id).sort()).toEqual(low);
  });

  it('branches on score: { gte } and on a stage override', async () => {
    const lin = await relationOf('林涛');
    const score = (await customers.standing([lin.externalUserId], clock.now())).get(lin.externalUserId)!.score;
    const plan = await planFromYaml(h.sop, `
id: score-branch
name: 按评分分流
trigger: { type: contact_tagged, tag: 企业版 }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - { id: hot, type: branch, if: { score: { gte: ${score} } }, then: by-stage, else: cold }
  - { id: by-stage, type: branch, if: { stage: dormant }, then: wake, else: cold }
  - { id: wake, type: rep_task, title: 高分但沉睡 }
  - { id: cold, type: rep_task, title: 其他 }
`);
    await override(lin.externalUserId, 'dormant');
    await h.sop.engine.onContactTagged({ externalUserId: lin.externalUserId, userId: lin.userId, tagIds: [await tagId('企业版')], at: clock.now() });
    await h.sop.engine.worker.drain();
    const steps = (await h.sop.models.Job.find({ planId: plan._id }).sort({ createdAt: 1 }).lean()).map((j) => [j.stepId, j.outcome]);
    // Both branches held (a journey runs on in order after the step a branch chose: wake, then cold).
    expect(steps).toEqual([['hot', 'branched'], ['by-stage', 'branched'], ['wake', 'task_created'], ['cold', 'task_created']]);
    clock.advance(DAY);
  });
});
