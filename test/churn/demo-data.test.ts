import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChurnRisk } from '../../server/src/churn/index.ts';
import { ContactPool, registerContactModels } from '../../server/src/contacts/index.ts';
import { seedDemoPool } from '../../server/src/demo/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { OrderBook, registerOrderModel } from '../../server/src/orders/index.ts';
import { registerRepTasks } from '../../server/src/tasks/index.ts';
import { createWecomClient } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';

/**
 * The rule against the demo data (what docs/churn-risk.md lists): the demo seed as the server runs
 * it, then one full pass. CHURN_DEMO_REPORT=path writes the table for the docs.
 */
const NOW = new Date('2026-11-23T02:00:00Z');
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator({ seed: 'demo', now: () => NOW.getTime() });
});
afterAll(async () => {
  await sim?.close();
  await store?.dispose();
});

describe('churn risk on the demo data', () => {
  it('scores every demo customer with reasons that add up, on the seed day and 45 days on', async () => {
    const logger = createLogger({ level: 'silent' });
    const contacts = registerContactModels(store.connection);
    await Promise.all(Object.values(contacts).map((m) => m.init()));
    const orderModel = registerOrderModel(store.connection);
    const tasks = registerRepTasks(store.connection);
    await Promise.all([orderModel.init(), tasks.init()]);
    const pool = new ContactPool(contacts);
    const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger });
    await seedDemoPool({ client, pool, models: contacts, orders: new OrderBook({ orders: orderModel, contacts }), tasks, logger, now: () => NOW });
    let at = NOW;
    const churn = await createChurnRisk({ connection: store.connection, contacts, orders: orderModel, logger, now: () => at });
    const names = new Map((await contacts.Contact.find({}, { externalUserId: 1, name: 1 }).lean()).map((c) => [c.externalUserId, c.name]));
    const report: string[] = [];
    // On the day of the seed, and a demo left alone for 45 days (its history does not move on).
    for (const [label, days] of [['seed day', 0], ['45 days later', 45]] as const) {
      at = new Date(NOW.getTime() + days * 86_400_000);
      report.push(`## ${label}\n${await pass()}`);
    }
    expect(report.join('\n')).toContain('已沉默');
    if (process.env.CHURN_DEMO_REPORT) await writeFile(process.env.CHURN_DEMO_REPORT, `${report.join('\n')}\n`);

    async function pass(): Promise<string> {
    const total = await churn.recomputeAll();
    expect(total).toBeGreaterThan(0);
    const all = await churn.scoresOf([...names.keys()]);
    expect(all.size).toBe(total);
    const rows = [...all].map(([id, s]) => ({ name: names.get(id) ?? id, ...s })).sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
    for (const row of rows) expect(row.reasons.reduce((sum, r) => sum + r.points, 0)).toBeGreaterThanOrEqual(row.score);
    const flagged = rows.filter((r) => r.score >= 60);
    const table = rows
      .filter((r) => r.score > 0)
      .map((r) => `| ${r.name} | ${r.score} | ${r.reasons.map((x) => `${x.code} +${x.points}：${x.label.zh}`).join('；')} |`)
      .join('\n');
    expect(rows.length).toBe(total);
    return `total ${total}, flagged (≥ 60) ${flagged.length}: ${flagged.map((r) => r.name).join('、') || '—'}\n${table}`;
    }
  });
});
