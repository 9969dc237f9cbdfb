/**
 * Analytics over 100,000 contacts and 300,000 orders (goal: GET /api/admin/analytics < 1 s):
 * the whole server in demo mode, the embedded store on its worker thread as in `npm start`.
 * Contacts spread over a year and 10 channels; 15 % only half-added, 17 % later removed.
 */
import { pathToFileURL } from 'node:url';
import { Analytics } from '../../server/src/analytics/index.ts';
import type { OrderModel } from '../../server/src/orders/index.ts';
import { ScriptLibrary } from '../../server/src/script-library/index.ts';
import type { RepTaskModel } from '../../server/src/tasks/index.ts';
import { startBenchSystem } from './demo-system.ts';
import { machineLine, percentile, seededRandom } from './machine.ts';

const CONTACTS = Number(process.env.BENCH_ANALYTICS_CONTACTS ?? 100_000);
const ORDERS = Number(process.env.BENCH_ANALYTICS_ORDERS ?? 300_000);
const RUNS = 7;
const DAY = 86_400_000;
const YEAR_START = Date.parse('2026-01-01T00:00:00+08:00');
const BATCH = 5_000;

const ms = (value: number) => `${Math.round(value).toLocaleString()} ms`;

export async function main(): Promise<void> {
  const system = await startBenchSystem();
  const db = system.store.connection.db!;
  try {
    let t = performance.now();
    const random = seededRandom(42);
    await db.collection('channels').insertMany(Array.from({ length: 10 }, (_, i) => ({ state: `bench_${i}`, name: `压测渠道${i}`, tagIds: [], cost: 1_000 * (i + 1) })));
    for (let i = 0; i < CONTACTS; i += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, CONTACTS - i) }, (_, k) => {
        const id = `wmAN${String(i + k).padStart(7, '0')}`;
        const entered = YEAR_START + Math.floor(random() * 360 * DAY);
        const added = random() < 0.85 ? entered + Math.floor(random() * DAY) : null;
        const removed = added !== null && random() < 0.2 ? added + Math.floor(random() * 60 * DAY) : null;
        return { id, entered, added, removed, state: `bench_${(i + k) % 10}` };
      });
      await db.collection('contacts').insertMany(rows.map((r) => ({ externalUserId: r.id, name: `客户${r.id.slice(-5)}`, type: 1, origin: 'import', enteredAt: new Date(r.entered) })));
      await db.collection('follow_relations').insertMany(
        rows.map((r) => ({
          externalUserId: r.id,
          userId: 'zhangwei',
          state: r.state,
          status: r.removed ? 'lost' : r.added ? 'active' : 'pending',
          enteredAt: new Date(r.entered),
          addedAt: r.added ? new Date(r.added) : null,
          removedAt: r.removed ? new Date(r.removed) : null,
          tagIds: [],
          // As mongoose stamps every write of the app: the analytics mirror reads changes by it.
          updatedAt: new Date(),
        })),
      );
    }
    for (let i = 0; i < ORDERS; i += BATCH) {
      await db.collection('orders').insertMany(
        Array.from({ length: Math.min(BATCH, ORDERS - i) }, (_, k) => ({
          orderId: `BENCH-${i + k}`,
          externalUserId: `wmAN${String(Math.floor(random() * CONTACTS)).padStart(7, '0')}`,
          amountFen: 100 + Math.floor(random() * 100_000),
          paidAt: new Date(YEAR_START + Math.floor(random() * 365 * DAY)),
          updatedAt: new Date(),
        })),
      );
    }
    const seeded = performance.now() - t;

    const token = system.config.adminToken;
    const timed = async (path: string) => {
      const samples: number[] = [];
      let body: unknown;
      for (let run = 0; run < RUNS; run++) {
        t = performance.now();
        const res = await fetch(`${system.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        body = await res.json();
        if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
        samples.push(performance.now() - t);
      }
      samples.sort((a, b) => a - b);
      return { samples, body };
    };
    const rows: Array<Record<string, string>> = [];
    // The first request reads every relation and order into the analytics mirror; later ones read only what changed.
    t = performance.now();
    const cold = await fetch(`${system.url}/api/admin/analytics?from=2026-06-01&to=2026-07-01`, { headers: { authorization: `Bearer ${token}` } });
    if (!cold.ok) throw new Error(`first request: ${cold.status}`);
    await cold.json();
    rows.push({ request: 'first request after seeding (reads all 400,000 new rows into the mirror)', p50: ms(performance.now() - t), max: '', check: '' });
    // What a server start does in the background: the full read of a fresh mirror.
    // The running system's models, looked up by name (registering them twice is an error).
    const model = <M>(name: string) => system.store.connection.model(name) as unknown as M;
    const fresh = new Analytics({
      contacts: { FollowRelation: model('FollowRelation'), TimelineEvent: model('TimelineEvent'), Channel: model('Channel') },
      orders: model<OrderModel>('Order'),
      sop: system.sop.models,
      tasks: model<RepTaskModel>('RepTask'),
      scripts: new ScriptLibrary({ Script: model('Script'), ScriptUsage: model('ScriptUsage') }),
      timeZone: 'Asia/Shanghai',
    });
    t = performance.now();
    await fresh.warm();
    rows.push({ request: 'full read of a fresh mirror (in the background at server start)', p50: ms(performance.now() - t), max: '', check: '' });
    // Delta reads look back 10 s for late writes: past that, requests read only what changed.
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    for (const [what, path] of [
      ['report, one month', '/api/admin/analytics?from=2026-06-01&to=2026-07-01'],
      ['report, whole year', '/api/admin/analytics?from=2026-01-01&to=2027-01-01'],
      ['series, 30 daily points', '/api/admin/analytics/series?from=2026-06-01&to=2026-07-01'],
      ['series, 12 monthly points', '/api/admin/analytics/series?from=2026-01-01&to=2027-01-01'],
    ] as const) {
      const { samples, body } = await timed(path);
      const overall = (body as { overall?: { entered: number; revenue: number } }).overall;
      rows.push({
        request: `${what}: GET ${path.split('?')[0]}`,
        p50: ms(percentile(samples, 50)),
        max: ms(samples.at(-1)!),
        check: overall ? `entered ${overall.entered.toLocaleString()}, revenue ¥${Math.round(overall.revenue).toLocaleString()}` : '',
      });
    }
    console.log(`Analytics over ${CONTACTS.toLocaleString()} contacts and ${ORDERS.toLocaleString()} orders, ${RUNS} runs each (seeding took ${(seeded / 1000).toFixed(1)} s) on ${machineLine()}`);
    console.table(rows);
  } finally {
    await system.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
