import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ContactPool, registerContactModels } from '../../server/src/contacts/index.ts';
import { createLogger, createMetrics } from '../../server/src/observability/index.ts';
import { createRepTask, registerRepTasks, snoozedUntil, TaskReminders, type RepTaskModel } from '../../server/src/tasks/index.ts';
import { createWecomClient } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock } from '../sop/harness.ts';

const logger = createLogger({ level: 'silent' });
const MINUTE = 60_000;
const clock = new TestClock(Date.parse('2026-06-01T02:00:00Z'));
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let tasks: RepTaskModel;
let pool: ContactPool;
let customer: string;

/** An instance's reminder pass, as main.ts builds it; each has its own metrics registry. */
function instance() {
  const metrics = createMetrics();
  // Two attempts per call, so a busy WeCom outlasts the client's own retries within a test.
  const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
  const reminders = new TaskReminders({ tasks, client, agentId: sim.corp.agentId, customerNames: (ids) => pool.namesOf(ids), registry: metrics.registry, logger, timeZone: 'Asia/Shanghai', now: clock.now });
  return { reminders, metrics };
}

const texts = (userid: string) => sim.appMessages(userid).map((m) => m.text?.content ?? '');

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator({ seed: 'demo' });
  tasks = registerRepTasks(store.connection);
  await tasks.init();
  const contacts = registerContactModels(store.connection);
  await Promise.all(Object.values(contacts).map((m) => m.init()));
  pool = new ContactPool(contacts);
  customer = 'wmTaskCustomer01';
  await contacts.Contact.create({ externalUserId: customer, name: '陈静', type: 1 });
});

afterAll(async () => {
  await sim?.close();
  await store?.dispose();
});

beforeEach(async () => {
  await tasks.deleteMany({});
  sim.clearFaults();
});

describe('due-task reminders', () => {
  it('sends the rep one WeCom app message when a task comes due, naming the task, customer and due time', async () => {
    const { reminders, metrics } = instance();
    await createRepTask(tasks, { key: 'renew-1', externalUserId: customer, userId: 'zhangwei', title: '电话沟通续费', detail: '合同 6 月底到期', dueAt: new Date(clock.ms() + 10 * MINUTE) });
    const before = texts('zhangwei').length;
    expect(await reminders.tick()).toMatchObject({ sent: 0 });
    clock.advance(10 * MINUTE);
    expect(await reminders.tick()).toMatchObject({ sent: 1 });
    expect(await reminders.tick()).toMatchObject({ sent: 0 });
    const arrived = texts('zhangwei').slice(before);
    expect(arrived).toHaveLength(1);
    // 02:10 UTC is 10:10 in Shanghai.
    expect(arrived[0]).toBe('【待办到期】电话沟通续费\n客户：陈静\n截止：6/1 10:10\n合同 6 月底到期\n在侧边栏「我的待办」里完成或推迟。');
    expect(await tasks.findOne({ key: 'renew-1' }).lean()).toMatchObject({ remindAt: null, reminderError: null, reminderAttempts: 1 });
    expect(await metrics.registry.getSingleMetricAsString('task_reminders_total')).toContain('task_reminders_total{outcome="sent"} 1');
  });

  it('reminds once when two instances run the pass at the same moment', async () => {
    const a = instance();
    const b = instance();
    for (let i = 0; i < 20; i += 1) await createRepTask(tasks, { key: `twin-${i}`, externalUserId: customer, userId: 'lina', title: `同时到期 ${i}`, dueAt: clock.now() });
    const before = texts('lina').length;
    const [ra, rb] = await Promise.all([a.reminders.tick(), b.reminders.tick()]);
    expect(ra.sent + rb.sent).toBe(20);
    const arrived = texts('lina').slice(before);
    expect(arrived).toHaveLength(20);
    expect(new Set(arrived).size).toBe(20);
  });

  it('reminds again at the time a task is snoozed to, and never for a done, unassigned, future or long-overdue task', async () => {
    const { reminders } = instance();
    await createRepTask(tasks, { key: 'snooze-me', externalUserId: customer, userId: 'wangfang', title: '回访', dueAt: clock.now() });
    await createRepTask(tasks, { key: 'done', externalUserId: customer, userId: 'wangfang', title: '已完成', dueAt: clock.now() });
    await tasks.updateOne({ key: 'done' }, { $set: { status: 'done' } });
    await createRepTask(tasks, { key: 'nobody', externalUserId: customer, userId: null, title: '没人负责', dueAt: clock.now() });
    await createRepTask(tasks, { key: 'future', externalUserId: customer, userId: 'wangfang', title: '下周', dueAt: new Date(clock.ms() + 7 * 86_400_000) });
    await createRepTask(tasks, { key: 'old', externalUserId: customer, userId: 'wangfang', title: '两天前', dueAt: new Date(clock.ms() - 2 * 86_400_000) });
    const before = texts('wangfang').length;
    await reminders.tick();
    expect(texts('wangfang').slice(before).map((t) => t.split('\n')[0])).toEqual(['【待办到期】回访']);

    await tasks.updateOne({ key: 'snooze-me' }, { $set: snoozedUntil(new Date(clock.ms() + 60 * MINUTE)) });
    clock.advance(30 * MINUTE);
    await reminders.tick();
    expect(texts('wangfang').slice(before)).toHaveLength(1);
    clock.advance(30 * MINUTE);
    await reminders.tick();
    await reminders.tick();
    expect(texts('wangfang').slice(before).map((t) => t.split('\n')[0])).toEqual(['【待办到期】回访', '【待办到期】回访']);
  });

  it('tries again when WeCom is busy, and records why when it refuses for good', async () => {
    const { reminders, metrics } = instance();
    await createRepTask(tasks, { key: 'busy', externalUserId: customer, userId: 'zhangwei', title: '忙时到期', dueAt: clock.now() });
    const before = texts('zhangwei').length;
    sim.inject({ api: '/message/send', errcode: 45009, times: 2 });
    expect(await reminders.tick()).toMatchObject({ retrying: 1, sent: 0 });
    expect((await tasks.findOne({ key: 'busy' }).lean())!.reminderError).toContain('45009');
    expect(await reminders.tick()).toMatchObject({ sent: 1 });
    expect(texts('zhangwei').slice(before)).toHaveLength(1);
    expect((await tasks.findOne({ key: 'busy' }).lean())!.reminderError).toBeNull();

    // Busy on every pass: given up after three, the reason kept.
    await createRepTask(tasks, { key: 'always-busy', externalUserId: customer, userId: 'zhangwei', title: '一直忙', dueAt: clock.now() });
    sim.inject({ api: '/message/send', errcode: 45009, times: 6 });
    const passes = [await reminders.tick(), await reminders.tick(), await reminders.tick(), await reminders.tick()];
    expect(passes.map((p) => (p.retrying ? 'retrying' : p.failed ? 'failed' : 'none'))).toEqual(['retrying', 'retrying', 'failed', 'none']);
    expect((await tasks.findOne({ key: 'always-busy' }).lean())!.reminderError).toContain('45009');

    // A rep WeCom does not know: 81013, not retried, the reason kept on the task.
    await createRepTask(tasks, { key: 'ghost', externalUserId: customer, userId: 'left-the-corp', title: '离职成员的', dueAt: clock.now() });
    expect(await reminders.tick()).toMatchObject({ failed: 1 });
    expect(await reminders.tick()).toMatchObject({ failed: 0, sent: 0 });
    const ghost = (await tasks.findOne({ key: 'ghost' }).lean())!;
    expect(ghost.reminderError).toContain('81013');
    expect(ghost.remindAt).toBeNull();
    const counted = await metrics.registry.getSingleMetricAsString('task_reminders_total');
    expect(counted).toContain('outcome="retrying"} 3');
    expect(counted).toContain('outcome="failed"} 2');
  });
});
