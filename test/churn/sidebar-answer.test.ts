import { Replies } from '../../server/src/replies/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../server/src/auth/index.ts';
import type { ChurnRisk } from '../../server/src/churn/index.ts';
import { Sessions } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { ScriptLibrary, registerScriptModels } from '../../server/src/script-library/index.ts';
import { createSidebarApi } from '../../server/src/sidebar-api/index.ts';
import { createWecomClient } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';
import { buildSop, TestClock, type SopHarness } from '../sop/harness.ts';
import { buildChurn } from './harness.ts';

const logger = createLogger({ level: 'silent' });
const clock = new TestClock(Date.parse('2026-06-01T02:00:00Z'));
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let h: SopHarness;
let churn: ChurnRisk;
let server: ServedModules;

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator({ seed: 'demo' });
  h = await buildSop(store.connection, sim, clock);
  ({ churn } = await buildChurn(store.connection, h, clock));
  const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger });
  const scripts = new ScriptLibrary(registerScriptModels(store.connection));
  await scripts.init();
  const sessions = new Sessions({ ttlMs: 3_600_000 });
  const corp = { corpId: sim.corp.corpId, agentId: String(sim.corp.agentId), oauthBase: sim.oauthBase };
  server = await serveModules(
    [
      authModule({ sessions, client, corp, publicUrl: null, adminToken: 'admin-token-0123456789', adminUserIds: [], demoReps: [...sim.state.reps.keys()], logger }),
      await createSidebarApi({
        connection: store.connection,
        sessions,
        contacts: h.contacts,
        pool: h.pool,
        tasks: h.tasks,
        replies: new Replies({ pool: h.pool, botEnabled: false }),
        scripts,
        sop: h.sop.models,
        client,
        corp,
        now: clock.now,
        churnRisk: (id) => churn.scoreOf(id),
      }),
    ],
    { cookieKeys: ['test-session-secret-0123456789-abcdef'] },
  );
});
afterAll(async () => {
  await server?.close();
  await sim?.close();
  await store?.dispose();
});

async function profileAs(rep: string, externalUserId: string) {
  const login = await fetch(`${server.base}/auth/demo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as: 'rep', userId: rep }) });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const res = await fetch(`${server.base}/api/sidebar/customers/${externalUserId}/profile`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return (await res.json()) as { risk: { score: number; reasons: Array<{ code: string; label: { zh: string; en: string }; points: number }> } | null };
}

describe('the sidebar customer answer', () => {
  it('carries the churn risk score and its reasons, in Chinese and English', async () => {
    const chen = (await h.contacts.Contact.findOne({ name: '陈静' }).lean())!;
    const relation = (await h.contacts.FollowRelation.findOne({ externalUserId: chen.externalUserId, status: 'active' }).lean())!;
    expect((await profileAs(relation.userId, chen.externalUserId)).risk).toBeNull();

    // She deleted another rep: that relation is lost, hers with this rep stays.
    await h.contacts.FollowRelation.create({ externalUserId: chen.externalUserId, userId: 'someone-else', status: 'lost', removedAt: clock.now() });
    const stored = (await churn.recompute([chen.externalUserId])).get(chen.externalUserId)!;
    const { risk } = await profileAs(relation.userId, chen.externalUserId);
    expect(risk!.score).toBe(stored.score);
    expect(risk!.score).toBeGreaterThanOrEqual(30);
    const lost = risk!.reasons.find((r) => r.code === 'rep_deleted')!;
    expect(lost.points).toBe(30);
    expect(lost.label.zh).toMatch(/好友关系已断开/);
    expect(lost.label.en).toMatch(/rep relation/);
    expect(risk!.reasons.reduce((sum, r) => sum + r.points, 0)).toBeGreaterThanOrEqual(risk!.score);
  });
});
