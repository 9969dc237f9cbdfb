/**
 * SOP engine: (1) planning a schedule slot for 100,000 contacts (enrolments + keyed jobs),
 * (2) dispatching due mass-send jobs against the WeCom simulator, (3) callback-to-welcome latency
 * with callbacks arriving at a steady 200/s through the real endpoint.
 */
import { pathToFileURL } from 'node:url';
import { parseTemplate } from '../../server/src/sop/index.ts';
import { startBenchSystem } from './demo-system.ts';
import { machineLine, percentile } from './machine.ts';

const CONTACTS = Number(process.env.BENCH_SOP_CONTACTS ?? 100_000);
const DISPATCH = Number(process.env.BENCH_SOP_DISPATCH ?? 2_000);
const CALLBACK_RATE = 200;
const CALLBACK_SECONDS = Number(process.env.BENCH_SOP_CALLBACK_S ?? 10);

const PUSH = `
id: bench-push
name: 压测推送
target: contact
trigger: { type: schedule, cron: "0 10 * * 1" }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: push
    type: mass_send
    content: { text: "{{name}}您好，本周活动开始了" }
`;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function main(): Promise<void> {
  const system = await startBenchSystem();
  const { sop } = system;
  const db = system.store.connection.db!;
  const rows: Array<Record<string, string>> = [];
  try {
    // 1. Planning: a schedule slot reaching every contact.
    const demoReps = ['zhangwei', 'lina', 'wangfang', 'liuyang'];
    let t = performance.now();
    for (let i = 0; i < CONTACTS; i += 5_000) {
      const batch = Array.from({ length: Math.min(5_000, CONTACTS - i) }, (_, k) => `wmBENCH${String(i + k).padStart(7, '0')}`);
      await db.collection('contacts').insertMany(batch.map((id) => ({ externalUserId: id, name: `客户${id.slice(-5)}`, type: 1, origin: 'import' })));
      await db.collection('follow_relations').insertMany(batch.map((id, k) => ({ externalUserId: id, userId: demoReps[k % 4], status: 'active', tagIds: [], remark: '' })));
    }
    const seeded = performance.now() - t;
    const template = parseTemplate(PUSH, 'bench-push.yaml');
    const plan = await sop.models.Plan.create({ name: template.name, templateId: template.id, template, timeZone: 'Asia/Shanghai', enabled: true });
    t = performance.now();
    const targets = (await sop.engine.audienceTargets(plan)).filter((target) => target.id.startsWith('wmBENCH'));
    const created = await sop.engine.enrolMany(plan, targets.map((target) => ({ target, occurrence: 'bench', at: new Date(Date.now() + 3_600_000) })));
    const planned = performance.now() - t;
    const jobs = await sop.models.Job.countDocuments({ planId: plan._id });
    rows.push({ measure: `plan one slot for ${CONTACTS.toLocaleString()} contacts`, result: `${seconds(planned)} (${Math.round(jobs / (planned / 1000)).toLocaleString()} jobs/s; ${created.toLocaleString()} enrolments, ${jobs.toLocaleString()} jobs)`, note: `seeding the contacts took ${seconds(seeded)}` });

    // 2. Dispatch: due jobs for customers the simulator knows (one each, so the daily cap does not apply).
    await sop.models.Job.updateMany({ planId: plan._id }, { $set: { runAt: null, status: 'done', outcome: 'plan_disabled' } });
    const sim = system.simulator!;
    const dispatchTargets = Array.from({ length: DISPATCH }, (_, i) => {
      const userId = demoReps[i % 4]!;
      const contact = sim.state.addContact({ name: `派发${i}` }, [{ userid: userId }]);
      return { target: { kind: 'contact' as const, id: contact.externalUserid, userId }, occurrence: 'dispatch', at: new Date() };
    });
    await db.collection('follow_relations').insertMany(dispatchTargets.map((d) => ({ externalUserId: d.target.id, userId: d.target.userId, status: 'active', tagIds: [], remark: '' })));
    await sop.engine.enrolMany(plan, dispatchTargets);
    t = performance.now();
    sop.engine.worker.kick();
    // Poll by status (index on status: only the open jobs), not by plan (100,000 finished jobs share it).
    while ((await sop.models.Job.countDocuments({ status: 'pending' })) > 0) await new Promise((r) => setTimeout(r, 500));
    const dispatched = performance.now() - t;
    const sent = await sop.models.Job.countDocuments({ planId: plan._id, outcome: 'sent' });
    rows.push({ measure: `dispatch ${DISPATCH.toLocaleString()} due mass-send jobs`, result: `${seconds(dispatched)} (${Math.round(sent / (dispatched / 1000))} sends/s)`, note: `${sent} sent: add_msg_template on the simulator, send ledger + cap slot per send` });

    // 3. Callback → welcome latency, first for contacts arriving one at a time, then at a steady 200/s.
    const welcomeLatency = async (code: string, sentAt: number) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const call = sim.calls('/externalcontact/send_welcome_msg').find((c) => (c.body as { welcome_code?: string }).welcome_code === code);
        if (call) return call.at - sentAt;
        if (Date.now() > deadline) return Infinity;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const single: number[] = [];
    for (let i = 0; i < 20; i++) {
      const scan = sim.scanChannelQr({ customer: { name: `单个${i}` }, userid: demoReps[i % 4]!, state: 'douyin_618' });
      const at = Date.now();
      await sim.sendCallback(`${system.url}/wecom/callback`, scan.event);
      single.push(await welcomeLatency(scan.welcomeCode!, at));
      await new Promise((r) => setTimeout(r, 100));
    }
    single.sort((x, y) => x - y);
    rows.push({ measure: 'callback → send_welcome_msg, one contact at a time', result: `p50 ${percentile(single, 50)} ms, max ${single.at(-1)} ms`, note: '20 contacts; goal < 1,000 ms; WeCom allows 20,000 ms' });

    const sentAt = new Map<string, number>();
    const total = CALLBACK_RATE * CALLBACK_SECONDS;
    const started = Date.now();
    const deliveries: Array<Promise<unknown>> = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / CALLBACK_RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const scan = sim.scanChannelQr({ customer: { name: `压测${i}` }, userid: demoReps[i % 4]!, state: 'douyin_618' });
      sentAt.set(scan.welcomeCode!, Date.now());
      deliveries.push(sim.sendCallback(`${system.url}/wecom/callback`, scan.event));
    }
    await Promise.all(deliveries);
    const offered = (total / ((Date.now() - started) / 1000)).toFixed(0);
    const deadline = Date.now() + 120_000;
    const latencies = () =>
      sim
        .calls('/externalcontact/send_welcome_msg')
        .filter((c) => c.errcode === 0 || c.errcode === undefined)
        .flatMap((c) => {
          const code = (c.body as { welcome_code?: string }).welcome_code;
          const at = code ? sentAt.get(code) : undefined;
          return at === undefined ? [] : [c.at - at];
        });
    while (latencies().length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const sorted = latencies().sort((x, y) => x - y);
    rows.push({
      measure: `callback → send_welcome_msg at ${CALLBACK_RATE}/s for ${CALLBACK_SECONDS} s`,
      result: `p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms`,
      note: `${sorted.length}/${total} welcomed; offered ${offered} callbacks/s; WeCom allows 20,000 ms`,
    });

    console.log(`\nSOP engine — ${machineLine()}`);
    console.table(rows);
  } finally {
    await system.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
