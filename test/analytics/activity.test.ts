import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminHarness, type AdminHarness } from '../import/harness.ts';

/**
 * The dashboard tables on a small hand-made ledger. Period [2026-05-01, 2026-06-01) Shanghai,
 * i.e. [2026-04-30T16:00Z, 2026-05-31T16:00Z).
 *
 * Plan P (nurture), step d1 (mass_send) to c1, c2, c3 on 05-02 and step d3 (bot_send) to c1 on 05-04:
 *   d1/c1: rep confirmed (delivered); c1 replied 05-03 (within 7 days) and paid 05-20 (within 30) → all four
 *   d1/c2: still pending at the rep; c2 replied 05-12 (10 days later: too late); no order → sent only
 *   d1/c3: rep confirmed; no reply; c3 paid 04-30 (before the send: does not count) → sent, confirmed
 *   d3/c1: a bot message, confirmed on sending; c1's reply was before it (05-03) → sent, confirmed, converted (05-20)
 *   a failed send and one outside the period do not count.
 * Reps: zhangsan confirmed two adds in May (c1, c2) and lost c2 on 05-15; lisi added c3 in April.
 * Tasks: zhangsan got two in May and finished one; lisi's task was created and done in April. Scripts: "greet" sent twice and copied once, "price" bot-replied once.
 */
const at = (iso: string) => new Date(`${iso}+08:00`);
let h: AdminHarness;
let planId: string;

beforeAll(async () => {
  h = await startAdminHarness();
  const { Plan, Send } = h.sop;
  const plan = await Plan.create({
    name: '七天培育',
    templateId: 'nurture',
    timeZone: 'Asia/Shanghai',
    template: { id: 'nurture', name: '培育', trigger: { type: 'contact_tagged', tag: 'x' }, steps: [{ id: 'd1', name: '第1天', type: 'mass_send', content: { text: 'hi' } }, { id: 'd3', name: '第3天', type: 'bot_send', content: { text: 'hi' } }] },
  });
  planId = String(plan._id);
  const send = (step: string, target: string, when: string, extra: Record<string, unknown>) =>
    Send.create({ key: `${planId}:${step}:${target}:occ`, targetId: target, day: when.slice(0, 10), marketing: true, at: at(when), state: 'sent', ...extra });
  await send('d1', 'c1', '2026-05-02T10:00:00', { channel: 'mass_send', sender: 'zhangsan', delivery: 'delivered' });
  await send('d1', 'c2', '2026-05-02T10:00:00', { channel: 'mass_send', sender: 'zhangsan', delivery: 'pending' });
  await send('d1', 'c3', '2026-05-02T10:00:00', { channel: 'mass_send', sender: 'lisi', delivery: 'delivered' });
  await send('d3', 'c1', '2026-05-04T10:00:00', { channel: 'bot' });
  await send('d3', 'c2', '2026-05-04T10:00:00', { channel: 'bot', state: 'failed' });
  await send('d3', 'c3', '2026-06-02T10:00:00', { channel: 'bot' });

  const { Contact, FollowRelation, TimelineEvent } = h.contacts;
  await Contact.insertMany(['c1', 'c2', 'c3'].map((id) => ({ externalUserId: id })));
  await FollowRelation.create([
    { externalUserId: 'c1', userId: 'zhangsan', status: 'active', enteredAt: at('2026-05-01T09:00:00'), addedAt: at('2026-05-01T09:00:00') },
    { externalUserId: 'c2', userId: 'zhangsan', status: 'lost', enteredAt: at('2026-05-01T09:00:00'), addedAt: at('2026-05-01T09:00:00'), removedAt: at('2026-05-15T09:00:00') },
    { externalUserId: 'c3', userId: 'lisi', status: 'active', enteredAt: at('2026-04-20T09:00:00'), addedAt: at('2026-04-20T09:00:00') },
  ]);
  await TimelineEvent.create([
    { externalUserId: 'c1', kind: 'message_in', at: at('2026-05-03T12:00:00'), key: 'm1' },
    { externalUserId: 'c2', kind: 'message_in', at: at('2026-05-12T12:00:00'), key: 'm2' },
  ]);
  await h.orders.recordMany([
    { orderId: 'x1', externalUserId: 'c1', amountFen: 100, paidAt: at('2026-05-20T12:00:00') },
    { orderId: 'x2', externalUserId: 'c3', amountFen: 100, paidAt: at('2026-04-30T12:00:00') },
  ]);
  // Written through the driver: mongoose would stamp createdAt/updatedAt with today.
  await h.tasks.collection.insertMany([
    { key: 't1', externalUserId: 'c1', userId: 'zhangsan', title: '回访', dueAt: at('2026-05-05T10:00:00'), status: 'done', createdAt: at('2026-05-02T10:00:00'), updatedAt: at('2026-05-06T10:00:00') },
    { key: 't2', externalUserId: 'c2', userId: 'zhangsan', title: '回访', dueAt: at('2026-05-05T10:00:00'), status: 'open', createdAt: at('2026-05-02T10:00:00'), updatedAt: at('2026-05-02T10:00:00') },
    { key: 't3', externalUserId: 'c3', userId: 'lisi', title: '回访', dueAt: at('2026-04-05T10:00:00'), status: 'done', createdAt: at('2026-04-02T10:00:00'), updatedAt: at('2026-04-06T10:00:00') },
  ]);
  for (const [key, scriptKey, action] of [['u1', 'greet', 'send'], ['u2', 'greet', 'send'], ['u3', 'greet', 'copy'], ['u4', 'price', 'bot_reply']] as const) {
    await h.scripts.recordUsage({ key: `usage-${key}`, scriptKey, action, userId: 'zhangsan' });
  }
});

afterAll(() => h?.close());

const get = async <T>(path: string) => {
  const res = await h.get(path);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};

describe('the dashboard tables', () => {
  it('counts the SOP step funnel: sent → confirmed by the rep → replied within 7 days → converted within 30 days', async () => {
    const { steps } = await get<{ steps: unknown[] }>('/api/admin/analytics/sop-funnel?from=2026-05-01&to=2026-06-01');
    expect(steps).toEqual([
      { planId, planName: '七天培育', stepId: 'd1', stepName: '第1天', channel: 'mass_send', sent: 3, confirmed: 2, replied: 1, converted: 1 },
      { planId, planName: '七天培育', stepId: 'd3', stepName: '第3天', channel: 'bot', sent: 1, confirmed: 1, replied: 0, converted: 1 },
    ]);
  });

  it('counts what each rep did in the period', async () => {
    const { reps } = await get<{ reps: unknown[] }>('/api/admin/analytics/reps?from=2026-05-01&to=2026-06-01');
    expect(reps).toEqual([
      { userId: 'lisi', added: 0, lost: 0, massSendTasks: 1, massSendConfirmed: 1, tasksCreated: 0, tasksDone: 0 },
      { userId: 'zhangsan', added: 2, lost: 1, massSendTasks: 2, massSendConfirmed: 1, tasksCreated: 2, tasksDone: 1 },
    ]);
  });

  it('counts script usage per script and action (usage recorded now, so the period is today)', async () => {
    const today = new Date();
    const day = (d: Date) => d.toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
    const { scripts } = await get<{ scripts: unknown[] }>(`/api/admin/analytics/scripts?from=${day(new Date(today.getTime() - 86_400_000))}&to=${day(new Date(today.getTime() + 2 * 86_400_000))}`);
    expect(scripts).toEqual([
      { scriptKey: 'greet', title: 'greet', category: '', send: 2, copy: 1, botReply: 0, total: 3 },
      { scriptKey: 'price', title: 'price', category: '', send: 0, copy: 0, botReply: 1, total: 1 },
    ]);
  });

  it('switches the series to calendar months for long periods, clipped to the period', async () => {
    const body = await get<{ interval: string; points: Array<{ label: string }> }>('/api/admin/analytics/series?from=2026-03-15&to=2026-06-10');
    expect(body.interval).toBe('month');
    expect(body.points.map((p) => p.label)).toEqual(['2026-03', '2026-04', '2026-05', '2026-06']);
  });
});
