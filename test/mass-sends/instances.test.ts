import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerContactModels } from '../../server/src/contacts/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { registerSopModels } from '../../server/src/sop/index.ts';
import { openStore, type Store } from '../../server/src/store/index.ts';
import { registerRepTasks } from '../../server/src/tasks/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { eventually } from '../support/eventually.ts';
import { TestClock, buildSop, type SopHarness } from '../sop/harness.ts';
import { addCustomers, buildMassSends, type MassSendFixture } from './harness.ts';

let first: Awaited<ReturnType<typeof openTestStore>>;
let second: Store;
let sim: WecomSimulator;
let h: SopHarness;
let a: MassSendFixture;
let b: MassSendFixture;
let customers: Record<string, string[]>;

beforeAll(async () => {
  first = await openTestStore();
  // A second connection to the same store, as a second server instance would have.
  const { host, port, name } = first.connection;
  second = await openStore({ kind: 'external', uri: `mongodb://${host}:${port}/${name}` }, createLogger({ level: 'silent' }));
  const clock = new TestClock(new Date('2026-11-23T02:00:00Z').getTime());
  sim = await startWecomSimulator({ seed: 'demo', now: clock.ms });
  customers = addCustomers(sim, { zhangwei: 20, lina: 15, wangfang: 10 });
  h = await buildSop(first.connection, sim, clock);
  a = await buildMassSends(first.connection, { ...h, sends: h.sop.models.Send }, clock, new Map());
  const tasks = registerRepTasks(second.connection);
  b = await buildMassSends(second.connection, { contacts: registerContactModels(second.connection), tasks, client: h.client, sends: registerSopModels(second.connection).Send }, clock, new Map());
});
afterAll(async () => {
  await Promise.all([a?.massSends.stop(), b?.massSends.stop()]);
  await Promise.all([a?.served.close(), b?.served.close()]);
  await h?.sop.engine.stop();
  await second?.close();
  await sim?.close();
  await first?.dispose();
});

describe('two instances on one store', () => {
  it('create each rep’s WeCom task once between them', async () => {
    a.massSends.start();
    b.massSends.start();
    const ids = Object.values(customers).flat();
    const res = await a.call<{ massSend: { id: string } }>('POST', '', { name: '双实例', content: { text: '周五特惠' }, audience: { filter: { ids } } });
    expect(res.status).toBe(201);
    b.massSends.runner.kick();
    await eventually(async () => ((await a.massSends.models.RepPart.countDocuments({ state: 'sent' })) === 3 ? true : null), 'all parts sent');
    const tasks = [...sim.state.massTasks.values()];
    expect(tasks.map((t) => t.creator).sort()).toEqual(['lina', 'wangfang', 'zhangwei']);
    expect(new Set(tasks.flatMap((t) => t.deliveries.map((d) => d.externalUserid))).size).toBe(ids.length);
    // The send's own status follows its parts (the last part to finish marks it), so read until it has.
    const view = await eventually(async () => {
      const got = await b.call<{ massSend: { status: string; totals: { targets: number } } }>('GET', `/${res.body.massSend.id}`);
      return got.body.massSend.status === 'sending' ? null : got.body.massSend;
    }, 'the mass send marked sent');
    expect(view).toMatchObject({ status: 'sent', totals: { targets: 45 } });
  });
});
