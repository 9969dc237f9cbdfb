import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Types } from 'mongoose';
import { createLogger } from '../../server/src/observability/index.ts';
import { openStore, type Store } from '../../server/src/store/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, planFromYaml, type SopHarness } from './harness.ts';

const DAY = 86_400_000;
const NURTURE = `
id: reentry-nurture
name: 标签培育
trigger: { type: contact_tagged, tag: 活跃 }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: task
    type: rep_task
    title: 跟进一下
`;
const WELCOME = `
id: reentry-welcome
name: 再次欢迎
trigger: { type: contact_added }
marketing: false
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: hello
    type: rep_task
    title: 新加的客户
`;

let first: Awaited<ReturnType<typeof openTestStore>>;
let second: Store;
let sim: WecomSimulator;
let clock: TestClock;
let a: SopHarness;
let b: SopHarness;
let activeTag: string;

beforeAll(async () => {
  first = await openTestStore();
  const { host, port, name } = first.connection;
  // A second connection to the same store, as a second server instance has.
  second = await openStore({ kind: 'external', uri: `mongodb://${host}:${port}/${name}` }, createLogger({ level: 'silent' }));
  clock = new TestClock(new Date('2026-11-23T02:00:00Z').getTime());
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  a = await buildSop(first.connection, sim, clock);
  b = await buildSop(second.connection, sim, clock, { sync: false });
  activeTag = (await a.contacts.Tag.findOne({ name: '活跃' }).lean())!.tagId;
});
afterAll(async () => {
  await second?.close();
  await sim?.close();
  await first?.dispose();
});
beforeEach(async () => {
  const { Plan, Job, Enrollment, Entry } = a.sop.models;
  await Promise.all([Plan.deleteMany({ builtIn: false }), Plan.updateMany({ builtIn: true }, { $set: { enabled: false } }), Job.deleteMany({}), Enrollment.deleteMany({}), Entry.deleteMany({})]);
});

const someRelation = async () => (await a.contacts.FollowRelation.findOne({ status: 'active' }).lean())!;
const tag = (h: SopHarness, r: { externalUserId: string; userId: string }, at: Date) =>
  h.sop.engine.onContactTagged({ externalUserId: r.externalUserId, userId: r.userId, tagIds: [activeTag], at });
const enrolments = (planId: Types.ObjectId) => a.sop.models.Enrollment.countDocuments({ planId });
const refusedCount = async (h: SopHarness) => {
  const text = await h.metrics.registry.getSingleMetricAsString('sop_reentry_refused_total');
  return [...text.matchAll(/^sop_reentry_refused_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
};

describe('a plan’s re-entry rule', () => {
  it('lets a tagged contact start a tag plan once by default, however often it is re-tagged', async () => {
    const plan = await planFromYaml(a.sop, NURTURE);
    const r = await someRelation();
    const before = await refusedCount(a);
    await tag(a, r, clock.now());
    await tag(a, r, new Date(clock.ms() + 3 * DAY));
    await tag(a, r, new Date(clock.ms() + 400 * DAY));
    expect(await enrolments(plan._id)).toBe(1);
    expect(await refusedCount(a)).toBe(before + 2);
  });

  it('holds across two instances re-tagging at once: one journey between them', async () => {
    const plan = await planFromYaml(a.sop, NURTURE);
    const r = await someRelation();
    // Two different tag events (different occurrences), one heard by each instance, at the same moment.
    await Promise.all([tag(a, r, clock.now()), tag(b, r, new Date(clock.ms() + 1_000)), tag(a, r, new Date(clock.ms() + 2_000)), tag(b, r, new Date(clock.ms() + 3_000))]);
    expect(await enrolments(plan._id)).toBe(1);
    expect(await a.sop.models.Job.countDocuments({ planId: plan._id })).toBe(1);
  });

  it('once per N days: refused inside the window, admitted after it', async () => {
    const plan = await planFromYaml(a.sop, NURTURE);
    await a.sop.models.Plan.updateOne({ _id: plan._id }, { $set: { reentry: { mode: 'per_days', days: 7 } } });
    const r = await someRelation();
    // The engine times an entry by its own clock (when it enrols), as it times the journey's steps.
    await tag(a, r, clock.now());
    clock.advance(6 * DAY);
    await tag(a, r, clock.now());
    expect(await enrolments(plan._id)).toBe(1);
    clock.advance(2 * DAY);
    await tag(b, r, clock.now());
    expect(await enrolments(plan._id)).toBe(2);
    // The window starts again at the second entry.
    clock.advance(4 * DAY);
    await tag(a, r, clock.now());
    expect(await enrolments(plan._id)).toBe(2);
  });

  it('every time: each tag event its own journey, a replayed event still only one', async () => {
    const plan = await planFromYaml(a.sop, NURTURE);
    await a.sop.models.Plan.updateOne({ _id: plan._id }, { $set: { reentry: { mode: 'every_time' } } });
    const r = await someRelation();
    await tag(a, r, clock.now());
    await tag(b, r, clock.now());
    await tag(a, r, new Date(clock.ms() + DAY));
    expect(await enrolments(plan._id)).toBe(2);
  });

  it('a replay of the event that entered is not refused (a retried enrolment carries on)', async () => {
    const plan = await planFromYaml(a.sop, NURTURE);
    const r = await someRelation();
    const before = await refusedCount(a);
    await tag(a, r, clock.now());
    await tag(b, r, clock.now());
    expect(await enrolments(plan._id)).toBe(1);
    expect(await refusedCount(a)).toBe(before);
  });

  it('welcome-like plans: once per relation, so a second rep adding the customer enters them again', async () => {
    const plan = await planFromYaml(a.sop, WELCOME);
    const r = await someRelation();
    const added = (userId: string, at: Date) => a.sop.engine.onContactAdded({ externalUserId: r.externalUserId, userId, state: null, welcomeCode: null, at });
    await added(r.userId, clock.now());
    await added(r.userId, new Date(clock.ms() + 30 * DAY)); // deleted and added back: not again
    expect(await enrolments(plan._id)).toBe(1);
    await added('someone-else', new Date(clock.ms() + 31 * DAY));
    expect(await enrolments(plan._id)).toBe(2);
  });
});
