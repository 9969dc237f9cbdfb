import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSend } from '../../server/src/sop/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, type SopHarness } from '../sop/harness.ts';
import { addCustomers, buildMassSends, type MassSendFixture } from './harness.ts';

// Monday 2026-11-23 10:00 in Asia/Shanghai.
const MONDAY_10 = '2026-11-23T02:00:00Z';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let clock: TestClock;
let h: SopHarness;
let f: MassSendFixture;
let customers: Record<string, string[]>;
const segments = new Map<string, string[]>();

const content = { text: '{{rep}}为您推荐：本周五特惠', attachments: [{ type: 'link', title: '周五特惠', url: 'https://example.com/offer' }] };
/** Everyone: three reps' customers plus liuyang's three, who each must be skipped for a reason. */
const everyone = () => Object.values(customers).flat();
const [OPTED_OUT, CAPPED, LOST] = ['ms-liuyang-0', 'ms-liuyang-1', 'ms-liuyang-2'];

beforeAll(async () => {
  store = await openTestStore();
  clock = new TestClock(new Date(MONDAY_10).getTime());
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  customers = addCustomers(sim, { zhangwei: 3, lina: 2, wangfang: 1, liuyang: 3 });
  h = await buildSop(store.connection, sim, clock);
  f = await buildMassSends(store.connection, { ...h, sends: h.sop.models.Send }, clock, segments);
  await h.contacts.Tag.updateOne({ tagId: 'optout' }, { $set: { name: '拒收营销', groupId: 'g', groupName: '偏好' } }, { upsert: true });
  await h.contacts.FollowRelation.updateOne({ externalUserId: OPTED_OUT }, { $addToSet: { tagIds: 'optout' } });
  await h.contacts.FollowRelation.updateOne({ externalUserId: LOST }, { $set: { status: 'lost' } });
});
afterAll(async () => {
  await f?.massSends.stop();
  await f?.served.close();
  await h?.sop.engine.stop();
  await sim?.close();
  await store?.dispose();
});
beforeEach(async () => {
  clock.set(MONDAY_10);
  sim.resetCalls();
  sim.clearFaults();
  sim.state.massTasks.clear();
  await Promise.all([f.massSends.models.MassSend.deleteMany({}), f.massSends.models.RepPart.deleteMany({}), h.sop.models.Send.deleteMany({}), h.tasks.deleteMany({})]);
  // CAPPED already got today's one marketing message (from an SOP plan).
  await recordSend(h.sop.models.Send, { key: 'sop-job-earlier', targetId: CAPPED, day: '2026-11-23', channel: 'mass_send', marketing: true, text: '早上的推送', at: clock.now(), sender: 'liuyang' }, 1);
});

const drain = () => f.massSends.runner.drain();
const addCalls = () => sim.calls('/externalcontact/add_msg_template').filter((c) => c.errcode === 0);
const bodyOf = (c: { body: unknown }) => c.body as { chat_type: string; sender: string; external_userid?: string[]; chat_id_list?: string[]; text: { content: string }; attachments?: unknown[] };
type View = { id: string; status: string; goesAt: string; totals: Record<string, number>; skipped: Record<string, number>; perRep: Array<Record<string, unknown> & { userId: string }> };
async function create(body: Record<string, unknown>) {
  const res = await f.call<{ massSend: View }>('POST', '', { name: '周五特惠', content, audience: { filter: { ids: everyone() } }, ...body });
  expect(res.status).toBe(201);
  return res.body.massSend;
}
const get = async (id: string) => (await f.call<{ massSend: View }>('GET', `/${id}`)).body.massSend;
const rep = (view: View, userId: string) => view.perRep.find((r) => r.userId === userId);

describe('preview', () => {
  it('counts per rep the customers each will be asked to send to, and who is skipped why', async () => {
    segments.set('seg-all', everyone());
    const res = await f.call('POST', '/preview', { content, audience: { segmentId: 'seg-all' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      total: 6,
      perRep: [{ userId: 'zhangwei', customers: 3 }, { userId: 'lina', customers: 2 }, { userId: 'wangfang', customers: 1 }],
      skipped: { optedOut: 1, capped: 1, noRelation: 1 },
    });
    expect(res.body.skipped).not.toHaveProperty('quietHours');
  });

  it('says when quiet hours move the send, and refuses a bad audience naming the field', async () => {
    clock.set('2026-11-23T15:00:00Z'); // 23:00 in Shanghai
    const res = await f.call<{ skipped: { quietHours: { deferredTo: string } } }>('POST', '/preview', { content, audience: { filter: { ids: everyone() } } });
    expect(res.body.skipped.quietHours.deferredTo).toBe('2026-11-24T00:00:00.000Z'); // 08:00 next morning
    const bad = await f.call<{ error: string; message: string }>('POST', '/preview', { content, audience: { segmentId: 's', groups: ['wr1'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^audience: give exactly one of segmentId, filter or groups/);
    const noText = await f.call<{ message: string }>('POST', '', { name: 'x', content: { text: '' }, audience: { filter: {} } });
    expect(noText.status).toBe(400);
    expect(noText.body.message).toMatch(/content\.text/);
    // One task carries one text to all of a rep's customers: a {{name}} would reach everyone empty.
    const personal = await f.call<{ message: string }>('POST', '/preview', { content: { text: '{{name}}您好，{{rep}}给您发周五的优惠' }, audience: { filter: {} } });
    expect(personal.status).toBe(400);
    expect(personal.body.message).toMatch(/^content\.text: \{\{name\}\} cannot be used in a 群发/);
  });
});

describe('sending', () => {
  it('creates one add_msg_template per rep with that rep’s customers, skipping the opted-out, capped and lost', async () => {
    const created = await create({});
    expect(created).toMatchObject({ status: 'scheduled' });
    await drain();
    const calls = addCalls().map(bodyOf);
    expect(calls).toHaveLength(3);
    const byRep = Object.fromEntries(calls.map((c) => [c.sender, c]));
    expect(byRep.zhangwei).toMatchObject({ chat_type: 'single', external_userid: customers.zhangwei, text: { content: '张伟为您推荐：本周五特惠' } });
    expect(byRep.zhangwei!.attachments).toEqual([{ msgtype: 'link', link: { title: '周五特惠', url: 'https://example.com/offer' } }]);
    expect(byRep.lina!.external_userid).toEqual(customers.lina);
    expect(byRep.wangfang!.external_userid).toEqual(customers.wangfang);
    const view = await get(created.id);
    expect(view).toMatchObject({ status: 'sent', totals: { targets: 6, sent: 0, pending: 6, notFriend: 0, overLimit: 0, failed: 0 }, skipped: { optedOut: 1, noRelation: 1, capped: 1 } });
    // The shared ledger holds each customer once, so the cap counts this 群发 for SOP plans too.
    expect(await h.sop.models.Send.countDocuments({ key: /^mass:/, state: 'sent', capSlot: /:2026-11-23:0$/ })).toBe(6);
  });

  it('the day’s cap also holds between two mass sends', async () => {
    await create({});
    await drain();
    const second = await create({ name: '同日第二次' });
    await drain();
    expect(addCalls()).toHaveLength(3);
    const view = await get(second.id);
    // Everyone got the first one today (and CAPPED an SOP message before): nobody is asked again.
    expect(view).toMatchObject({ status: 'sent', totals: { targets: 0, pending: 0 }, skipped: { capped: 7 } });
  });

  it('sends to customer groups from each group’s owner', async () => {
    const groups = await h.contacts.CustomerGroup.find({ status: 'active' }).lean();
    expect(groups.length).toBeGreaterThanOrEqual(2);
    const created = await create({ audience: { groups: [...groups.map((g) => g.chatId), 'wr-no-such-group'] } });
    await drain();
    const calls = addCalls().map(bodyOf);
    const owners = [...new Set(groups.map((g) => g.owner))];
    expect(calls).toHaveLength(owners.length);
    for (const owner of owners) {
      expect(calls.find((c) => c.sender === owner)).toMatchObject({ chat_type: 'group', chat_id_list: groups.filter((g) => g.owner === owner).map((g) => g.chatId) });
    }
    expect(await get(created.id)).toMatchObject({ totals: { targets: groups.length }, skipped: { noRelation: 1 } });
  });

  it('waits for sendAt, and moves a send in quiet hours to their end', async () => {
    const later = await create({ sendAt: '2026-11-25T06:00:00Z' });
    clock.set('2026-11-23T15:00:00Z'); // 23:00 in Shanghai
    const night = await create({ name: '夜里' });
    expect(night.goesAt).toBe('2026-11-24T00:00:00.000Z');
    await drain();
    expect(addCalls()).toHaveLength(0);
    clock.set('2026-11-24T00:00:00Z');
    await drain();
    // A new day: the customer capped yesterday may get it, so liuyang sends too.
    expect(addCalls().map((c) => bodyOf(c).sender).sort()).toEqual(['lina', 'liuyang', 'wangfang', 'zhangwei']);
    expect((await get(later.id)).status).toBe('scheduled');
    clock.set('2026-11-25T06:00:00Z');
    await drain();
    expect((await get(later.id)).status).toBe('sent');
  });

  it('takes its own quiet hours', async () => {
    const created = await create({ quietHours: { start: '09:00', end: '12:00' } });
    expect(created.goesAt).toBe('2026-11-23T04:00:00.000Z');
    await drain();
    expect(addCalls()).toHaveLength(0);
  });

  it('cancels before it goes, and not after', async () => {
    const created = await create({ sendAt: '2026-11-23T08:00:00Z' });
    const cancel = await f.call<{ massSend: View }>('POST', `/${created.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.massSend.status).toBe('cancelled');
    clock.set('2026-11-23T09:00:00Z');
    await drain();
    expect(addCalls()).toHaveLength(0);
    const again = await f.call<{ message: string }>('POST', `/${created.id}/cancel`);
    expect(again.status).toBe(409);
    expect((await f.call('POST', '/0123456789abcdef01234567/cancel')).status).toBe(404);
    expect((await f.call('GET', '/not-an-id')).status).toBe(400);
  });
});

describe('never twice', () => {
  it('a restart after WeCom created the task finds it instead of creating a second', async () => {
    await create({});
    await drain();
    const [part] = await f.massSends.models.RepPart.find({ userId: 'zhangwei' }).lean();
    // As if the process died between WeCom's answer and recording it.
    await f.massSends.models.RepPart.updateOne({ _id: part!._id }, { $set: { state: 'sending', msgid: null, status: 'pending', runAt: clock.now() } });
    await drain();
    expect(addCalls()).toHaveLength(3);
    expect((await f.massSends.models.RepPart.findById(part!._id).lean())!.msgid).toBe(part!.msgid);
  });

  it('a -1 answer is retried after looking in WeCom’s task list', async () => {
    sim.inject({ api: '/externalcontact/add_msg_template', errcode: -1 });
    await create({ audience: { filter: { ids: customers.zhangwei } } });
    await drain();
    expect(sim.state.massTasks.size).toBe(0);
    clock.advance(MINUTE);
    await drain();
    expect(sim.state.massTasks.size).toBe(1);
    expect(sim.calls('/externalcontact/get_groupmsg_list_v2').length).toBeGreaterThan(0);
  });
});

describe('read-back', () => {
  it('reports per rep and in total what WeCom says; one failing read is recorded and retried', async () => {
    const created = await create({});
    await drain();
    const parts = await f.massSends.models.RepPart.find({}).lean();
    const msgid = (userId: string) => parts.find((p) => p.userId === userId)!.msgid!;
    sim.state.confirmMassSend(msgid('zhangwei'), 'zhangwei');
    const linas = sim.state.massTasks.get(msgid('lina'))!.deliveries;
    linas[0]!.status = 2; // no longer a friend
    linas[1]!.status = 3; // over the customer's receive limit
    sim.inject({ api: '/externalcontact/get_groupmsg_task', errcode: 60011 });
    clock.advance(10 * MINUTE);
    await drain();
    let view = await get(created.id);
    const failing = view.perRep.filter((r) => r.readBackError);
    expect(failing).toHaveLength(1);

    clock.advance(10 * MINUTE);
    await drain();
    view = await get(created.id);
    expect(view.perRep.filter((r) => r.readBackError)).toHaveLength(0);
    expect(rep(view, 'zhangwei')).toMatchObject({ targets: 3, sent: 3, pending: 0, confirmedAt: expect.any(String) });
    expect(rep(view, 'lina')).toMatchObject({ targets: 2, sent: 0, pending: 0, notFriend: 1, overLimit: 1 });
    expect(rep(view, 'wangfang')).toMatchObject({ targets: 1, pending: 1 });
    expect(view.totals).toEqual({ targets: 6, sent: 3, pending: 1, notFriend: 1, overLimit: 1, failed: 0 });
    expect(await h.sop.models.Send.countDocuments({ key: /^mass:/, delivery: 'delivered' })).toBe(3);
  });

  it('a read WeCom keeps refusing backs off and is given up with the reason shown, not retried for ever', async () => {
    const created = await create({});
    await drain();
    sim.inject({ api: '/externalcontact/get_groupmsg_task', errcode: 40058, times: 10_000 });
    for (let i = 0; i < 40; i++) {
      clock.advance(HOUR);
      await drain();
    }
    const sentParts = (await get(created.id)).perRep.filter((r) => r.msgid);
    expect(sentParts.length).toBe(3);
    for (const r of sentParts) expect(r).toMatchObject({ readBackError: expect.stringContaining('40058'), readBackGivenUpAt: expect.any(String) });
    const asked = sim.calls('/externalcontact/get_groupmsg_task').length;
    // The first read (before WeCom refused) and 8 refused ones per part, where every 10 minutes for 40 hours would be 240.
    expect(asked).toBe(sentParts.length * 9);
    for (let i = 0; i < 10; i++) {
      clock.advance(HOUR);
      await drain();
    }
    expect(sim.calls('/externalcontact/get_groupmsg_task').length).toBe(asked);
  });

  it('reminds a rep who has not confirmed after 2 hours, once', async () => {
    const created = await create({});
    await drain();
    const zhangweis = (await f.massSends.models.RepPart.findOne({ userId: 'zhangwei' }).lean())!;
    sim.state.confirmMassSend(zhangweis.msgid!, 'zhangwei');
    clock.advance(HOUR);
    await drain();
    expect(await h.tasks.countDocuments()).toBe(0);
    for (let i = 0; i < 3; i++) {
      clock.advance(HOUR);
      await drain();
    }
    const tasks = await h.tasks.find().lean();
    expect(tasks.map((t) => t.userId).sort()).toEqual(['lina', 'wangfang']);
    expect(tasks.find((t) => t.userId === 'lina')).toMatchObject({ externalUserId: customers.lina![0], title: '确认群发「周五特惠」', status: 'open' });
    expect(rep(await get(created.id), 'lina')!.remindedAt).toEqual(expect.any(String));
  });

  it('lists mass sends, newest first', async () => {
    await create({ name: '第一' });
    clock.advance(MINUTE);
    await create({ name: '第二' });
    const res = await f.call<{ massSends: Array<{ name: string }> }>('GET', '');
    expect(res.body.massSends.map((m) => m.name)).toEqual(['第二', '第一']);
  });
});
