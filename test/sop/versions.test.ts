import { beforeEach, describe, expect, it } from 'vitest';
import { DAY, MONDAY_10, useSopApi } from './api-harness.ts';
import { buildSop } from './harness.ts';

const f = useSopApi();
beforeEach(async () => {
  f.clock.set(MONDAY_10);
  f.sim.resetCalls();
  f.sim.state.massTasks.clear();
  const { Plan, Job, Enrollment, Send, PlanVersion } = f.h.sop.models;
  await Promise.all([Plan.deleteMany({ builtIn: false }), Job.deleteMany({}), Enrollment.deleteMany({}), Send.deleteMany({}), PlanVersion.deleteMany({})]);
});

type PlanView = { id: string; version: number };
const drain = () => f.h.sop.engine.worker.drain();
/** Mass-send tasks WeCom created, as [recipient, text]. */
const massSends = () => [...f.sim.state.massTasks.values()].map((t) => [t.deliveries[0]?.externalUserid, t.text?.content]);

/** Fires the contact_tagged trigger for a demo customer carrying A类-高意向; returns their external id. */
async function tag(name: string): Promise<string> {
  const contact = (await f.h.contacts.Contact.findOne({ name }).lean())!;
  const relation = (await f.h.contacts.FollowRelation.findOne({ externalUserId: contact.externalUserId }).lean())!;
  await f.h.sop.engine.onContactTagged({ externalUserId: contact.externalUserId, userId: relation.userId, tagIds: relation.tagIds, at: f.clock.now() });
  return contact.externalUserId;
}

const daily = (id: string, text: string) => ({ id, type: 'mass_send', after: { days: 1, at: '10:00' }, content: { text } });
const journey = (...steps: unknown[]) => ({ name: '三日培育', trigger: { type: 'contact_tagged', tag: 'A类-高意向' }, steps });

describe('editing an enabled plan makes a new version', () => {
  it('gives new enrolments the new text, keeps enrolled contacts on their version, and runs no step twice', async () => {
    const plan = (await f.api.call<{ plan: PlanView }>('POST', '/plans', { name: '培育', enabled: true, journey: journey(daily('day1', '第一天'), daily('day2', '第二天：旧文案')) })).body.plan;
    const chen = await tag('陈静');
    f.clock.advance(DAY); // Tuesday 10:00
    await drain();
    expect(massSends()).toEqual([[chen, '第一天']]);

    const edited = await f.api.call<{ plan: PlanView & { journey: { steps: Array<{ content: { text: string } }> } } }>('PUT', `/plans/${plan.id}/journey`, {
      journey: journey(daily('day1', '第一天'), daily('day2', '第二天：新文案')),
    });
    expect(edited.status).toBe(200);
    expect(edited.body.plan.version).toBe(2);
    const sun = await tag('孙丽');

    f.clock.advance(DAY); // Wednesday: 陈静's day 2 (version 1), 孙丽's day 1 (version 2)
    await drain();
    f.clock.advance(DAY); // Thursday: 孙丽's day 2
    await drain();
    await drain();
    expect(massSends()).toEqual([
      [chen, '第一天'],
      [chen, '第二天：旧文案'],
      [sun, '第一天'],
      [sun, '第二天：新文案'],
    ]);

    const jobs = (await f.api.call<{ jobs: Array<{ stepId: string; targetId: string; version: number; outcome: string }> }>('GET', `/plans/${plan.id}/jobs`)).body.jobs;
    expect(jobs.map((j) => `${j.targetId === chen ? 'chen' : 'sun'}:${j.stepId}:v${j.version}:${j.outcome}`).sort()).toEqual([
      'chen:day1:v1:sent',
      'chen:day2:v1:sent',
      'sun:day1:v2:sent',
      'sun:day2:v2:sent',
    ]);
    expect(await f.h.sop.models.Send.countDocuments({ channel: 'mass_send' })).toBe(4);
    expect(await f.h.sop.models.Enrollment.find({ planId: plan.id }, { _id: 0, targetId: 1, version: 1, status: 1 }).sort({ targetId: 1 }).lean()).toEqual(
      expect.arrayContaining([{ targetId: chen, version: 1, status: 'completed' }, { targetId: sun, version: 2, status: 'completed' }]),
    );

    const versions = (await f.api.call<{ versions: Array<{ version: number; steps: Array<{ content: { text: string } }> }> }>('GET', `/plans/${plan.id}/versions`)).body.versions;
    expect(versions.map((v) => [v.version, v.steps[1]!.content.text])).toEqual([
      [2, '第二天：新文案'],
      [1, '第二天：旧文案'],
    ]);
  });

  it("moves active enrolments to the new version at the step with the same id, and exits those whose step is gone", async () => {
    const plan = (await f.api.call<{ plan: PlanView }>('POST', '/plans', {
      name: '培育',
      enabled: true,
      journey: journey(daily('day1', '第一天'), daily('day2', '第二天：旧文案'), daily('day3', '第三天')),
    })).body.plan;
    const chen = await tag('陈静');
    f.clock.advance(DAY); // Tuesday: 陈静 gets day 1 and waits at day2; 孙丽 enrols, waiting at day1
    await drain();
    const sun = await tag('孙丽');

    const moved = await f.api.call<{ plan: PlanView }>('PUT', `/plans/${plan.id}/journey`, {
      journey: journey(daily('day2', '第二天：新文案'), daily('day3', '第三天')),
      migrate: 'move',
    });
    expect(moved.body.plan.version).toBe(2);
    expect(await f.h.sop.models.Enrollment.findOne({ targetId: chen }).lean()).toMatchObject({ version: 2, status: 'active', currentStep: 'day2' });
    expect(await f.h.sop.models.Enrollment.findOne({ targetId: sun }).lean()).toMatchObject({ status: 'exited', exitReason: expect.stringContaining('"day1"') });

    f.clock.advance(DAY);
    await drain();
    f.clock.advance(DAY);
    await drain();
    expect(massSends()).toEqual([
      [chen, '第一天'],
      [chen, '第二天：新文案'],
      [chen, '第三天'],
    ]);
    const sunJobs = (await f.api.call<{ jobs: Array<{ stepId: string; outcome: string; detail: { reason?: string } }> }>('GET', `/contacts/${sun}/jobs`)).body.jobs;
    expect(sunJobs).toEqual([expect.objectContaining({ stepId: 'day1', outcome: 'exited', detail: { reason: expect.stringContaining('no step "day1"') } })]);
  });
});

describe('a one-off schedule', () => {
  it('enrols once at its minute, however often it is ticked, also after a restart', async () => {
    const push = { name: '双十二群推', target: 'group', trigger: { type: 'schedule', at: '2026-11-25T20:00' }, steps: [{ id: 'push', type: 'mass_send', content: { text: '双十二预告' } }] };
    const plan = (await f.api.call<{ plan: PlanView & { nextRuns: string[] } }>('POST', '/plans', { name: '双十二群推', enabled: true, journey: push, timeZone: 'Asia/Shanghai' })).body.plan;
    expect(plan.nextRuns).toEqual(['2026-11-25T12:00:00.000Z']); // 20:00 in Shanghai

    f.clock.set('2026-11-25T11:59:00Z');
    await f.h.sop.engine.tick();
    expect(await f.h.sop.models.Job.countDocuments()).toBe(0);
    f.clock.set('2026-11-25T12:03:00Z'); // a few minutes late: caught up
    await f.h.sop.engine.tick();
    await f.h.sop.engine.tick();
    expect(await f.h.sop.models.Job.countDocuments({ stepId: 'push' })).toBe(2); // the demo corp's two groups
    await drain();

    // A restarted instance (a fresh engine on the same store) does not run it again.
    const restarted = await buildSop(f.connection, f.sim, f.clock, { sync: false });
    f.clock.advance(DAY);
    await restarted.sop.engine.tick();
    await f.h.sop.engine.tick();
    expect(await f.h.sop.models.Job.countDocuments({ stepId: 'push' })).toBe(2);
    expect(massSends().filter(([, text]) => text === '双十二预告')).toHaveLength(2);
    expect((await f.api.call<{ plan: { nextRuns: string[]; nextRun: string | null } }>('GET', `/plans/${plan.id}`)).body.plan).toMatchObject({ nextRuns: [], nextRun: null });
  });
});
