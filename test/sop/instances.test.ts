import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/observability/index.ts';
import { openStore, type Store } from '../../server/src/store/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { eventually } from '../support/eventually.ts';
import { TestClock, buildSop, planFromYaml, type SopHarness } from './harness.ts';

const PUSH = `
id: two-instances
name: 双实例推送
trigger: { type: contact_tagged, tag: 活跃 }
quietHours: { start: "00:00", end: "00:00" }
steps:
  - id: push
    type: mass_send
    content: { text: "{{name}}，本周活动" }
`;

let first: Awaited<ReturnType<typeof openTestStore>>;
let second: Store;
let sim: WecomSimulator;
let a: SopHarness;
let b: SopHarness;

beforeAll(async () => {
  first = await openTestStore();
  // A second connection to the same store, as a second server instance would have.
  const { host, port, name } = first.connection;
  second = await openStore({ kind: 'external', uri: `mongodb://${host}:${port}/${name}` }, createLogger({ level: 'silent' }));
  const clock = new TestClock(Date.now());
  sim = await startWecomSimulator({ seed: 'demo' });
  for (let i = 0; i < 60; i++) sim.state.addContact({ name: `客户${i}` }, [{ userid: i % 2 ? 'lina' : 'zhangwei' }]);
  a = await buildSop(first.connection, sim, clock);
  b = await buildSop(second.connection, sim, clock, { sync: false });
});

afterAll(async () => {
  await Promise.all([a?.sop.engine.stop(), b?.sop.engine.stop()]);
  await second?.close();
  await sim?.close();
  await first?.dispose();
});

describe('two engine instances on one store', () => {
  it('send each step exactly once between them', async () => {
    await planFromYaml(a.sop, PUSH);
    const relations = await a.contacts.FollowRelation.find({ status: 'active' }).lean();
    expect(relations.length).toBe(68);
    const activeTag = (await a.contacts.Tag.findOne({ name: '活跃' }).lean())!.tagId;
    a.sop.engine.start();
    b.sop.engine.start();
    // Both instances hear every trigger (as with a fan-out), and both run workers.
    await Promise.all(
      relations.flatMap((r) => [a, b].map((h) => h.sop.engine.onContactTagged({ externalUserId: r.externalUserId, userId: r.userId, tagIds: [activeTag], at: new Date(0) }))),
    );
    await eventually(async () => ((await a.sop.models.Job.countDocuments({ status: 'done' })) === 68 ? true : null), 'all jobs done');

    const tasks = [...sim.state.massTasks.values()];
    expect(tasks).toHaveLength(68);
    const recipients = tasks.flatMap((t) => t.deliveries.map((d) => d.externalUserid));
    expect(new Set(recipients).size).toBe(68);
    expect(await a.sop.models.Enrollment.countDocuments()).toBe(68);
    // Work was really shared: both instances' workers finished jobs.
    const owners = await a.sop.models.Job.distinct('leaseOwner');
    expect(owners.length).toBe(2);
  });
});
