import mongoose from 'mongoose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, planFromYaml, type SopHarness } from './harness.ts';
import { eventually } from '../support/eventually.ts';

// Monday 2026-11-23 10:00 in Asia/Shanghai.
const MONDAY_10 = '2026-11-23T02:00:00Z';
const DAY = 86_400_000;

let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let clock: TestClock;
let h: SopHarness;

beforeAll(async () => {
  store = await openTestStore();
  clock = new TestClock(new Date(MONDAY_10).getTime());
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  h = await buildSop(store.connection, sim, clock);
});
afterAll(async () => {
  await h?.sop.engine.stop();
  await sim?.close();
  await store?.dispose();
});
beforeEach(async () => {
  clock.set(MONDAY_10);
  sim.resetCalls();
  sim.state.massTasks.clear();
  await Promise.all([h.sop.models.Plan.deleteMany({ builtIn: false }), h.sop.models.Job.deleteMany({}), h.sop.models.Enrollment.deleteMany({}), h.sop.models.Send.deleteMany({}), h.tasks.deleteMany({})]);
});
afterEach(() => h.sop.engine.stop());

const drain = () => h.sop.engine.worker.drain();
const contactNamed = async (name: string) => (await h.contacts.Contact.findOne({ name }).lean())!;
const relationOf = async (externalUserId: string) => (await h.contacts.FollowRelation.findOne({ externalUserId }).lean())!;
/** Mass-send tasks WeCom really created (the call log also holds calls it refused, e.g. for an expired token). */
const massSends = () => [...sim.state.massTasks.values()];
/** Tags a demo customer with the tag the test plans trigger on (A类-高意向); returns their external id. */
async function tagCustomer(name: string): Promise<string> {
  const contact = await contactNamed(name);
  const relation = await relationOf(contact.externalUserId);
  await h.sop.engine.onContactTagged({ externalUserId: contact.externalUserId, userId: relation.userId, tagIds: relation.tagIds, at: clock.now() });
  return contact.externalUserId;
}
const enrolChen = () => tagCustomer('陈静');
const jobsOf = (targetId: string) => h.sop.models.Job.find({ targetId }).sort({ dueAt: 1, createdAt: 1 }).lean();

describe('welcome inside WeCom’s 20-second window', () => {
  it('sends the built-in 新客欢迎 once, even when the add event is delivered twice', async () => {
    const scan = sim.scanChannelQr({ customer: { name: '周小姐' }, userid: 'lina', state: 'referral' });
    await h.pool.upsertFromWecom({ externalUserId: scan.contact.externalUserid, name: '周小姐', type: 1, follows: [{ userId: 'lina', addedAt: clock.now(), tagIds: [] }] }, clock.now());
    const event = { externalUserId: scan.contact.externalUserid, userId: 'lina', state: 'referral', welcomeCode: scan.welcomeCode!, at: clock.now() };
    await h.sop.engine.onContactAdded(event);
    await h.sop.engine.onContactAdded(event);
    await drain();
    const sends = sim.calls('/externalcontact/send_welcome_msg');
    expect(sends).toHaveLength(1);
    expect(sends[0]!.body).toMatchObject({ welcome_code: scan.welcomeCode, text: { content: expect.stringContaining('周小姐') } });
    const firstStep = h.sop.templates.find((t) => t.id === 'welcome')!.steps[0]!.id;
    expect((await jobsOf(scan.contact.externalUserid))[0]).toMatchObject({ stepId: firstStep, status: 'done', outcome: 'sent' });
  });

  it('records an expired welcome code as an outcome instead of retrying', async () => {
    const scan = sim.scanChannelQr({ customer: { name: '钱先生' }, userid: 'lina' });
    await h.sop.engine.onContactAdded({ externalUserId: scan.contact.externalUserid, userId: 'lina', state: null, welcomeCode: scan.welcomeCode!, at: clock.now() });
    clock.advance(25_000); // past the code's 20 s
    await drain();
    const [welcome] = await jobsOf(scan.contact.externalUserid);
    expect(welcome).toMatchObject({ status: 'done', outcome: 'code_expired', attempts: 1 });
  });
});

const welcomeJourney = (id: string, text: string, channels: string[] = []) => `
id: ${id}
name: ${id}
marketing: false
trigger: { type: contact_added, channels: [${channels.join(', ')}] }
steps:
  - id: hello
    type: send_welcome
    content: { text: "${text}" }
  - id: follow
    type: rep_task
    title: 跟进 ${id}
`;

describe('one welcome per add event (WeCom accepts its code once)', () => {
  async function addThrough(name: string, state: string) {
    const scan = sim.scanChannelQr({ customer: { name }, userid: 'lina', state });
    await h.pool.upsertFromWecom({ externalUserId: scan.contact.externalUserid, name, type: 1, follows: [{ userId: 'lina', addedAt: clock.now(), state, tagIds: [] }] }, clock.now());
    await h.sop.engine.onContactAdded({ externalUserId: scan.contact.externalUserid, userId: 'lina', state, welcomeCode: scan.welcomeCode!, at: clock.now() });
    await drain();
    return scan.contact.externalUserid;
  }

  it("an operator's welcome journey replaces the built-in 新客欢迎 instead of racing it for the code", async () => {
    expect(await h.sop.models.Plan.exists({ builtIn: true, enabled: true })).toBeTruthy();
    await planFromYaml(h.sop, welcomeJourney('expo-welcome', '{{name}}您好，欢迎来到展会'));
    const id = await addThrough('展会客户', 'expo');
    const sends = sim.calls('/externalcontact/send_welcome_msg');
    expect(sends.map((c) => (c.body as { text: { content: string } }).text.content)).toEqual(['展会客户您好，欢迎来到展会']);
    const builtIn = await h.sop.models.Plan.findOne({ builtIn: true }).lean();
    expect(await h.sop.models.Enrollment.countDocuments({ targetId: id, planId: builtIn!._id })).toBe(0);
  });

  it('a plan naming the channel welcomes; an any-channel plan still runs its other steps without the code', async () => {
    const general = await planFromYaml(h.sop, welcomeJourney('general-welcome', '通用欢迎'));
    const channel = await planFromYaml(h.sop, welcomeJourney('expo-only', '展会专属欢迎', ['expo']));
    const id = await addThrough('渠道客户', 'expo');
    expect(sim.calls('/externalcontact/send_welcome_msg').map((c) => (c.body as { text: { content: string } }).text.content)).toEqual(['展会专属欢迎']);
    const outcomes = async (planId: mongoose.Types.ObjectId) => (await h.sop.models.Job.find({ targetId: id, planId }).sort({ dueAt: 1 }).lean()).map((j) => [j.stepId, j.outcome]);
    expect(await outcomes(channel._id)).toEqual([['hello', 'sent'], ['follow', 'task_created']]);
    expect(await outcomes(general._id)).toEqual([['hello', 'no_welcome_code'], ['follow', 'task_created']]);
  });
});

const JOURNEY = `
id: journey-test
name: 测试旅程
trigger: { type: contact_tagged, tag: A类-高意向 }
steps:
  - id: d1
    type: mass_send
    after: { days: 1, at: "10:00" }
    content: { text: "{{name}}您好，这是第一天的资料" }
  - id: check
    type: branch
    after: { days: 2 }
    if: { replied: true }
    then: call
    else: nudge
  - id: nudge
    type: mass_send
    content: { text: "{{name}}，想听听您的想法" }
  - id: call
    type: rep_task
    after: { days: 4 }
    title: 电话回访
`;

describe('a multi-day journey with a controllable clock', () => {
  it('advances day by day, branches on replies and ends with a rep task', async () => {
    await planFromYaml(h.sop, JOURNEY);
    const chen = { externalUserId: await tagCustomer('陈静') };

    expect(await drain()).toBe(0); // day 1 10:00 is tomorrow
    clock.set('2026-11-24T02:00:00Z');
    expect(await drain()).toBe(1);
    expect(massSends()).toEqual([
      expect.objectContaining({ chatType: 'single', creator: 'zhangwei', text: { content: '陈静您好，这是第一天的资料' } }),
    ]);
    expect(massSends()[0]!.deliveries).toEqual([expect.objectContaining({ externalUserid: chen.externalUserId })]);

    clock.advance(2 * DAY);
    expect(await drain()).toBe(2); // the branch, then the nudge it chose (no reply)
    expect(massSends()).toHaveLength(2);
    clock.advance(4 * DAY);
    expect(await drain()).toBe(1);

    const jobs = await jobsOf(chen.externalUserId);
    expect(jobs.map((j) => [j.stepId, j.outcome])).toEqual([
      ['d1', 'sent'],
      ['check', 'branched'],
      ['nudge', 'sent'],
      ['call', 'task_created'],
    ]);
    expect(await h.tasks.findOne({ externalUserId: chen.externalUserId }).lean()).toMatchObject({ title: '电话回访', userId: 'zhangwei', status: 'open' });
    expect(await h.sop.models.Enrollment.findOne({ targetId: chen.externalUserId }).lean()).toMatchObject({ status: 'completed' });
  });

  it('takes the other branch when the customer replied', async () => {
    await planFromYaml(h.sop, JOURNEY);
    const sun = { externalUserId: await tagCustomer('孙丽') };
    clock.advance(DAY);
    await drain();
    await h.pool.addTimeline({ externalUserId: sun.externalUserId, at: clock.now(), kind: 'message_in', key: 'reply-1' });
    clock.advance(2 * DAY);
    await drain();
    expect((await jobsOf(sun.externalUserId)).map((j) => j.stepId)).toEqual(['d1', 'check', 'call']);
  });
});

describe('guardrails', () => {
  const NOW_SEND = (id: string) => `
id: ${id}
name: 即时推送 ${id}
trigger: { type: contact_tagged, tag: A类-高意向 }
quietHours: { start: "22:00", end: "08:00" }
steps:
  - id: push
    type: mass_send
    content: { text: "今日优惠 ${id}" }
`;

  it('holds a message due in quiet hours until they end', async () => {
    await planFromYaml(h.sop, NOW_SEND('quiet'));
    clock.set('2026-11-23T15:00:00Z'); // 23:00 in Shanghai
    const id = await enrolChen();
    await drain();
    expect(massSends()).toHaveLength(0);
    const [waiting] = await jobsOf(id);
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0, runAt: new Date('2026-11-24T00:00:00Z') }); // 08:00 local
    clock.set('2026-11-24T00:00:00Z');
    await drain();
    expect(massSends()).toHaveLength(1);
  });

  it('caps marketing at one message per contact per day across plans', async () => {
    await planFromYaml(h.sop, NOW_SEND('first'));
    await planFromYaml(h.sop, NOW_SEND('second'));
    const id = await enrolChen();
    await drain();
    expect(massSends()).toHaveLength(1);
    // The other plan's message waits for the next day (deferred, see below).
    expect((await jobsOf(id)).map((j) => j.outcome ?? 'deferred').sort()).toEqual(['deferred', 'sent']);
  });

  it('defers a capped message to the next day the cap allows, in allowed hours, and sends it then', async () => {
    await planFromYaml(h.sop, NOW_SEND('first'));
    await enrolChen();
    await drain();
    const second = await planFromYaml(h.sop, NOW_SEND('second'));
    const id = await enrolChen();
    await drain();
    expect(massSends()).toHaveLength(1);
    const deferred = (await jobsOf(id)).find((j) => j.outcome === null)!;
    // Tuesday 00:00 local is in quiet hours (22:00–08:00): the run lands at 08:00 local.
    expect(deferred).toMatchObject({ status: 'pending', runAt: new Date('2026-11-24T00:00:00Z'), detail: { deferredTo: '2026-11-24T00:00:00.000Z' } });
    expect(String(deferred.planId)).toBe(String(second._id));
    clock.set('2026-11-24T00:00:00Z');
    await drain();
    expect(massSends()).toHaveLength(2);
    expect((await jobsOf(id)).find((j) => String(j.planId) === String(second._id))).toMatchObject({ outcome: 'sent', detail: { deferredTo: '2026-11-24T00:00:00.000Z' } });
  });

  it('drops a capped message when the plan says so, or when the next allowed day is past the catch-up bound', async () => {
    await planFromYaml(h.sop, NOW_SEND('first'));
    await enrolChen();
    await drain();
    const dropping = await planFromYaml(h.sop, NOW_SEND('dropping'));
    await h.sop.models.Plan.updateOne({ _id: dropping._id }, { $set: { capPolicy: 'drop' } });
    const bounded = await planFromYaml(h.sop, NOW_SEND('bounded'));
    await h.sop.models.Plan.updateOne({ _id: bounded._id }, { $set: { catchUp: { policy: 'run', maxLatenessHours: 12 } } });
    const id = await enrolChen();
    await drain();
    const jobs = await jobsOf(id);
    expect(jobs.find((j) => String(j.planId) === String(dropping._id))).toMatchObject({ outcome: 'capped', detail: { capPolicy: 'drop' } });
    expect(jobs.find((j) => String(j.planId) === String(bounded._id))).toMatchObject({ outcome: 'capped', detail: { capPolicy: 'defer', beyondCatchUp: true } });
  });

  describe('a variable without a value', () => {
    const COMPANY_SEND = (id: string, text: string) => NOW_SEND(id).replace(`今日优惠 ${id}`, text);
    let company: string;
    beforeEach(async () => {
      const chen = await contactNamed('陈静');
      company = chen.corpName;
      await h.contacts.Contact.updateOne({ externalUserId: chen.externalUserId }, { $set: { corpName: '' } });
    });
    afterEach(async () => {
      await h.contacts.Contact.updateOne({ name: '陈静' }, { $set: { corpName: company } });
    });

    it('holds the step back for that contact, naming the variable, instead of sending broken text', async () => {
      await planFromYaml(h.sop, COMPANY_SEND('nocompany', '{{company}}的专属优惠'));
      const id = await enrolChen();
      await drain();
      expect(massSends()).toHaveLength(0);
      expect(await jobsOf(id)).toMatchObject([{ status: 'done', outcome: 'held_missing_variable', detail: { variables: ['company'] } }]);
      expect(await h.sop.models.Send.countDocuments({ targetId: id })).toBe(0);
    });

    it('sends the variable’s default in its place', async () => {
      await planFromYaml(h.sop, COMPANY_SEND('fallback', '{{company|贵公司}}的专属优惠'));
      const id = await enrolChen();
      await drain();
      expect(massSends().map((task) => task.text?.content)).toEqual(['贵公司的专属优惠']);
      expect(await jobsOf(id)).toMatchObject([{ outcome: 'sent' }]);
    });
  });

  it('sends no marketing to a contact carrying the opt-out tag', async () => {
    await h.contacts.Tag.updateOne({ tagId: 'optout' }, { $set: { name: '拒收营销', groupId: 'g', groupName: '偏好' } }, { upsert: true });
    const chen = await contactNamed('陈静');
    await h.contacts.FollowRelation.updateOne({ externalUserId: chen.externalUserId }, { $addToSet: { tagIds: 'optout' } });
    await planFromYaml(h.sop, NOW_SEND('optout'));
    await enrolChen();
    await drain();
    expect(massSends()).toHaveLength(0);
    expect((await jobsOf(chen.externalUserId))[0]).toMatchObject({ outcome: 'opted_out' });
    await h.contacts.FollowRelation.updateOne({ externalUserId: chen.externalUserId }, { $pull: { tagIds: 'optout' } });
  });
});

describe('a batch of due mass sends, as the running worker takes them', () => {
  it('reads the batch’s enrolments, opt-outs and names once and still sends each right: the opted-out one skipped, the others by their own name', async () => {
    await h.contacts.Tag.updateOne({ tagId: 'optout' }, { $set: { name: '拒收营销', groupId: 'g', groupName: '偏好' } }, { upsert: true });
    const chen = await contactNamed('陈静');
    await h.contacts.FollowRelation.updateOne({ externalUserId: chen.externalUserId }, { $addToSet: { tagIds: 'optout' } });
    const plan = await planFromYaml(h.sop, `
id: batch-push
name: 批量推送
trigger: { type: contact_tagged, tag: A类-高意向 }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: push
    type: mass_send
    content: { text: "{{name}}您好，本周活动" }
`);
    const relations = await h.contacts.FollowRelation.find({ status: 'active' }).lean();
    const targets = relations.map((r) => ({ target: { kind: 'contact' as const, id: r.externalUserId, userId: r.userId }, occurrence: 'batch', at: clock.now() }));
    expect(targets.length).toBeGreaterThan(2);
    const before = massSends().length;
    await h.sop.engine.enrolMany(plan, targets);
    h.sop.engine.worker.start();
    try {
      await eventually(async () => ((await h.sop.models.Job.countDocuments({ planId: plan._id, status: 'done' })) === targets.length ? true : null), 'the batch sent');
    } finally {
      await h.sop.engine.worker.stop();
    }
    const jobs = await h.sop.models.Job.find({ planId: plan._id }).lean();
    expect(jobs.find((j) => j.targetId === chen.externalUserId)).toMatchObject({ outcome: 'opted_out' });
    expect(jobs.filter((j) => j.outcome === 'sent')).toHaveLength(targets.length - 1);
    const names = new Map((await h.contacts.Contact.find({}).lean()).map((c) => [c.externalUserId, c.name]));
    const sent = massSends().slice(before);
    expect(sent.map((t) => t.text?.content).sort()).toEqual(
      targets.filter((t) => t.target.id !== chen.externalUserId).map((t) => `${names.get(t.target.id)}您好，本周活动`).sort(),
    );
    await h.contacts.FollowRelation.updateOne({ externalUserId: chen.externalUserId }, { $pull: { tagIds: 'optout' } });
  });
});

describe('mass-send confirmation', () => {
  it('reads back whether the rep confirmed the task in WeCom', async () => {
    await planFromYaml(h.sop, `
id: confirm-push
name: 确认测试
trigger: { type: contact_tagged, tag: A类-高意向 }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: push
    type: mass_send
    content: { text: "待确认的群发" }
`);
    const chen = { externalUserId: await tagCustomer('陈静') };
    await drain();
    const send = (await h.sop.models.Send.findOne({ targetId: chen.externalUserId }).lean())!;
    expect(send).toMatchObject({ state: 'sent', delivery: 'pending', sender: 'zhangwei' });

    await h.sop.engine.tick();
    expect(await h.sop.models.Send.findOne({ _id: send._id }).lean()).toMatchObject({ delivery: 'pending' });
    sim.state.confirmMassSend(send.msgid!, 'zhangwei'); // the rep taps 发送 in the client
    await h.sop.engine.tick();
    expect(await h.sop.models.Send.findOne({ _id: send._id }).lean()).toMatchObject({ delivery: 'delivered', deliveredAt: expect.any(Date) });
  });
});

describe('mass-send read-back when WeCom refuses one send', () => {
  it('records the error on that send, reads the others, retries it with backoff and gives it up with the reason', async () => {
    await planFromYaml(h.sop, `
id: readback-push
name: 回读测试
trigger: { type: contact_tagged, tag: A类-高意向 }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: push
    type: mass_send
    content: { text: "回读测试群发" }
`);
    const ids = [await tagCustomer('陈静'), await tagCustomer('孙丽')];
    await drain();
    const sends = () => h.sop.models.Send.find({ targetId: mongoose.trusted({ $in: ids }), text: '回读测试群发' }).sort({ at: 1, _id: 1 }).lean();
    const [first, second] = await sends();
    for (const send of [first!, second!]) sim.state.confirmMassSend(send.msgid!, send.sender!);
    const asked = () => sim.calls('/externalcontact/get_groupmsg_send_result').length;

    sim.inject({ api: '/externalcontact/get_groupmsg_send_result', errcode: 40058, errmsg: 'invalid msgid', times: 1 });
    await h.sop.engine.tick();
    let [a, b] = await sends();
    expect(a).toMatchObject({ delivery: 'pending', readFailures: 1, readError: expect.stringContaining('40058'), nextCheckAt: expect.any(Date) });
    expect(b).toMatchObject({ delivery: 'delivered' }); // not held back by the first

    const before = asked();
    await h.sop.engine.tick(); // inside its backoff: not asked again
    expect(asked()).toBe(before);
    clock.advance(2 * 60_000);
    await h.sop.engine.tick();
    [a] = await sends();
    expect(a).toMatchObject({ delivery: 'delivered', nextCheckAt: null });

    // A send WeCom never answers for is given up after a bound, with the reason kept.
    await h.sop.models.Send.updateOne({ _id: a!._id }, { $set: { delivery: 'pending', readFailures: 0 } });
    sim.inject({ api: '/externalcontact/get_groupmsg_send_result', errcode: 40058, errmsg: 'invalid msgid', times: 100 });
    for (let i = 0; i < 8; i++) {
      await h.sop.engine.tick();
      clock.advance(3_600_000);
    }
    [a] = await sends();
    expect(a).toMatchObject({ delivery: 'unreadable', readFailures: 8, readError: expect.stringContaining('40058') });
    sim.clearFaults();
  });
});

describe('other triggers and catch-up', () => {
  it('enrols a contact silent for N days once per silent spell (沉睡唤醒)', async () => {
    const template = h.sop.templates.find((t) => t.id === 'winback')!;
    await h.sop.models.Plan.create({ name: template.name, templateId: template.id, template, timeZone: 'Asia/Shanghai', enabled: true });
    const zheng = await contactNamed('郑浩');
    await h.contacts.Contact.updateOne({ externalUserId: zheng.externalUserId }, { $set: { lastActivityAt: new Date(clock.ms() - 40 * DAY) } });
    await h.contacts.Contact.updateMany({ externalUserId: mongoose.trusted({ $ne: zheng.externalUserId }) }, { $set: { lastActivityAt: clock.now() } });
    await h.sop.engine.tick();
    await h.sop.engine.tick();
    const enrolments = await h.sop.models.Enrollment.find({}).lean();
    expect(enrolments.map((e) => e.targetId)).toEqual([zheng.externalUserId]);
  });

  it('enrols on an order and stops a win-back journey once the customer buys', async () => {
    await planFromYaml(h.sop, `
id: after-order
name: 下单关怀
trigger: { type: order_placed }
exitWhen: { bought: true }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: thanks
    type: rep_task
    title: 感谢下单
  - id: later
    type: mass_send
    after: { days: 2 }
    content: { text: "使用得怎么样？" }
`);
    const lin = await contactNamed('林涛');
    await h.sop.engine.onOrderPlaced({ externalUserId: lin.externalUserId, orderId: 'o-1' });
    await drain();
    expect(await h.tasks.countDocuments({ externalUserId: lin.externalUserId, title: '感谢下单' })).toBe(1);
    // A (second) purchase after enrolment meets exitWhen: the journey stops before its next step.
    await h.pool.addTimeline({ externalUserId: lin.externalUserId, at: new Date(clock.ms() + 1), kind: 'order_paid', key: 'o-2' });
    clock.advance(2 * DAY);
    await drain();
    expect((await jobsOf(lin.externalUserId)).map((j) => j.outcome)).toEqual(['task_created', 'exited']);
    expect(massSends()).toHaveLength(0);
  });

  it('skips a job that came due too long ago when the template says so', async () => {
    await planFromYaml(h.sop, `
id: late-push
name: 过期不补
trigger: { type: contact_tagged, tag: A类-高意向 }
quietHours: { start: "00:00", end: "00:00" }
catchUp: { policy: skip, maxLatenessHours: 6 }
steps:
  - id: push
    type: mass_send
    content: { text: "今日限时" }
`);
    const chen = { externalUserId: await tagCustomer('陈静') };
    clock.advance(7 * 3_600_000); // the server was down for 7 hours
    await drain();
    expect((await jobsOf(chen.externalUserId))[0]).toMatchObject({ outcome: 'skipped_late' });
    expect(massSends()).toHaveLength(0);
  });
});

describe('weekly group push', () => {
  it('fires once per occurrence for every group, however often the schedule is ticked', async () => {
    const template = h.sop.templates.find((t) => t.id === 'group-weekly')!;
    clock.set('2026-11-23T01:50:00Z'); // Monday 09:50
    await h.sop.models.Plan.create({ name: template.name, templateId: template.id, template, timeZone: 'Asia/Shanghai', enabled: true });
    await h.sop.engine.tick();
    expect(await h.sop.models.Job.countDocuments()).toBe(0);
    clock.set('2026-11-23T02:00:30Z'); // 10:00:30
    await h.sop.engine.tick();
    await h.sop.engine.tick();
    clock.set('2026-11-23T02:05:00Z');
    await h.sop.engine.tick();
    expect(await h.sop.models.Job.countDocuments({ stepId: 'monday-digest' })).toBe(2);
    await drain();
    const groupSends = massSends().filter((t) => t.chatType === 'group');
    expect(groupSends).toHaveLength(2);
    clock.set('2026-11-30T02:00:00Z'); // the next Monday
    await h.sop.engine.tick();
    expect(await h.sop.models.Job.countDocuments({ stepId: 'monday-digest' })).toBe(4);
  });
});

describe('crash safety', () => {
  const PUSH = `
id: crash-push
name: 崩溃测试
trigger: { type: contact_tagged, tag: A类-高意向 }
steps:
  - id: push
    type: mass_send
    content: { text: "只发一次" }
`;

  it('resumes a job whose worker died after claiming it, and sends once', async () => {
    await planFromYaml(h.sop, PUSH);
    const chen = { externalUserId: await tagCustomer('陈静') };
    // The "crash": another worker claimed the job and vanished before sending.
    await h.sop.models.Job.updateOne({}, { $set: { status: 'running', runAt: null, leaseOwner: 'dead', leaseUntil: new Date(clock.ms() + 60_000), attempts: 1 } });
    expect(await drain()).toBe(0); // still leased
    clock.advance(61_000);
    expect(await drain()).toBe(1);
    expect(massSends()).toHaveLength(1);
  });

  it('retries a mass send WeCom answered "busy" (-1) without creating it twice', async () => {
    await planFromYaml(h.sop, PUSH);
    const chenId = await enrolChen();
    sim.inject({ api: '/externalcontact/add_msg_template', errcode: -1, times: 1 });
    await drain();
    expect(massSends()).toHaveLength(0);
    expect((await jobsOf(chenId))[0]).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/-1/) });
    clock.advance(60_000); // past the retry backoff
    await drain();
    expect(massSends()).toHaveLength(1);
    expect((await jobsOf(chenId))[0]).toMatchObject({ status: 'done', outcome: 'sent' });
  });

  it('does not send again when the crash came after WeCom had already taken the send', async () => {
    await planFromYaml(h.sop, PUSH);
    const chen = { externalUserId: await tagCustomer('陈静') };
    await drain();
    expect(massSends()).toHaveLength(1);
    // Rewind our side to "call in flight": the ledger says sending, the job is runnable again.
    await h.sop.models.Send.updateOne({}, { $set: { state: 'sending', msgid: null } });
    await h.sop.models.Job.updateOne({}, { $set: { status: 'pending', runAt: clock.now(), outcome: null } });
    await h.sop.models.Enrollment.updateOne({}, { $set: { status: 'active' } });
    await drain();
    expect(massSends()).toHaveLength(1);
    expect((await jobsOf(chen.externalUserId))[0]).toMatchObject({ outcome: 'sent', detail: { resumed: true } });
  });
});

describe('enrolling a whole audience in one occurrence (a schedule slot)', () => {
  it('reads and writes it batch by batch, each target once, and a rerun adds nothing but the jobs a crash left out', async () => {
    const plan = await planFromYaml(h.sop, `
id: slot-push
name: 整批推送
trigger: { type: schedule, cron: "0 10 * * 1" }
steps:
  - id: push
    type: mass_send
    content: { text: "本周活动" }
`);
    const ids = Array.from({ length: 5_100 }, (_, i) => `wmSLOT${i}`); // more than one batch of 5,000
    await h.contacts.FollowRelation.collection.insertMany([
      ...ids.map((id) => ({ externalUserId: id, userId: 'zhangwei', status: 'active', tagIds: [], remark: '' })),
      { externalUserId: 'wmSLOT0', userId: 'lina', status: 'active', tagIds: [], remark: '' }, // a second rep: still one target
    ]);
    const existing = (await h.sop.engine.audienceTargets(plan)).length;
    expect(await h.sop.engine.enrolAudience(plan, 'slot-1', clock.now())).toBe(existing);
    const jobs = () => h.sop.models.Job.countDocuments({ planId: plan._id });
    expect(await jobs()).toBe(existing);
    expect(await h.sop.models.Enrollment.countDocuments({ planId: plan._id, targetId: 'wmSLOT0' })).toBe(1);

    await h.sop.models.Job.deleteMany({ planId: plan._id, targetId: mongoose.trusted({ $in: ['wmSLOT1', 'wmSLOT5099'] }) });
    expect(await h.sop.engine.enrolAudience(plan, 'slot-1', clock.now())).toBe(0);
    expect(await jobs()).toBe(existing);
    await h.sop.models.Job.deleteMany({ planId: plan._id });
    await h.sop.models.Enrollment.deleteMany({ planId: plan._id });
    await h.contacts.FollowRelation.deleteMany({ externalUserId: mongoose.trusted({ $in: ids }) });
  });
});
