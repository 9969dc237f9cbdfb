/**
 * The customer list and segment counts over 100,000 contacts (goal: a segment editor's live count
 * < 300 ms): the whole server in demo mode, the embedded store on its worker thread as in `npm start`.
 * Contacts over a year and 10 channels, two reps each for a fifth, 150,000 orders, a few tags.
 */
import { pathToFileURL } from 'node:url';
import { startBenchSystem } from './demo-system.ts';
import { machineLine, percentile, seededRandom } from './machine.ts';

const CONTACTS = Number(process.env.BENCH_CUSTOMERS_CONTACTS ?? 100_000);
const ORDERS = Number(process.env.BENCH_CUSTOMERS_ORDERS ?? 150_000);
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
    const random = seededRandom(7);
    const id = (i: number) => `wmCU${String(i).padStart(7, '0')}`;
    const tags = ['bench-vip', 'bench-hot', 'bench-cold'];
    await db.collection('tags').insertMany(tags.map((tagId) => ({ tagId, name: tagId, groupId: 'bench', groupName: '压测', order: 0, origin: 'local', updatedAt: new Date() })));
    for (let i = 0; i < CONTACTS; i += BATCH) {
      const n = Math.min(BATCH, CONTACTS - i);
      const rows = Array.from({ length: n }, (_, k) => {
        const entered = YEAR_START + Math.floor(random() * 330 * DAY);
        return { id: id(i + k), entered, state: `bench_${(i + k) % 10}`, active: random() < 0.85, tag: tags[Math.floor(random() * 4)], last: entered + Math.floor(random() * 30 * DAY) };
      });
      // As mongoose stamps every write of the app: the customer index reads changes by updatedAt.
      await db.collection('contacts').insertMany(rows.map((r) => ({ externalUserId: r.id, name: `客户${r.id.slice(-6)}`, type: 1, origin: 'import', enteredAt: new Date(r.entered), lastActivityAt: new Date(r.last), updatedAt: new Date() })));
      await db.collection('follow_relations').insertMany(
        rows.flatMap((r, k) => [
          { externalUserId: r.id, userId: 'zhangwei', state: r.state, status: r.active ? 'active' : 'lost', enteredAt: new Date(r.entered), addedAt: new Date(r.entered), tagIds: r.tag ? [r.tag] : [], remark: '', updatedAt: new Date() },
          ...(k % 5 === 0 ? [{ externalUserId: r.id, userId: 'lina', state: 'bench_late', status: 'active', enteredAt: new Date(r.entered + DAY), addedAt: new Date(r.entered + DAY), tagIds: [], remark: '', updatedAt: new Date() }] : []),
        ]),
      );
    }
    for (let i = 0; i < ORDERS; i += BATCH) {
      await db.collection('orders').insertMany(
        Array.from({ length: Math.min(BATCH, ORDERS - i) }, (_, k) => ({
          orderId: `BENCH-CU-${i + k}`,
          externalUserId: id(Math.floor(random() ** 2 * CONTACTS)),
          amountFen: 100 + Math.floor(random() * 100_000),
          paidAt: new Date(YEAR_START + Math.floor(random() * 330 * DAY)),
          updatedAt: new Date(),
        })),
      );
    }
    const seeded = performance.now() - t;
    const headers = { authorization: `Bearer ${system.config.adminToken}`, 'content-type': 'application/json' };
    const call = async (path: string, body?: unknown) => {
      const res = await fetch(`${system.url}${path}`, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
      const json = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const rows: Array<Record<string, string>> = [];
    // Seeded behind the module's back: the first answer finds the index empty of them and builds it (a delta of 100,000 rows).
    t = performance.now();
    await call('/api/admin/segments/count', { filter: {} });
    rows.push({ request: 'first answer after seeding (builds the index: every contact)', p50: ms(performance.now() - t), max: '', check: '' });
    // Deltas look back 10 s for late writes: past that, an answer re-reads only what moved.
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    // ...after one more refresh (the first one's look-back still spanned the seeding).
    t = performance.now();
    await call('/api/admin/segments/count', { filter: {} });
    rows.push({ request: 'the answer after (re-reads the last 10 s of seeding once)', p50: ms(performance.now() - t), max: '', check: '' });
    const timed = async (what: string, path: string, body?: unknown) => {
      const samples: number[] = [];
      let json: Record<string, unknown> = {};
      for (let run = 0; run < RUNS; run++) {
        t = performance.now();
        json = await call(path, body);
        samples.push(performance.now() - t);
      }
      samples.sort((a, b) => a - b);
      const check = 'count' in json ? `count ${Number(json.count).toLocaleString()}` : `total ${Number(json.total).toLocaleString()}, ${(json.items as unknown[]).length} items`;
      rows.push({ request: what, p50: ms(percentile(samples, 50)), max: ms(samples.at(-1)!), check });
    };
    await timed('segment count, all contacts', '/api/admin/segments/count', { filter: {} });
    await timed('segment count, channel + ≥ 1 order', '/api/admin/segments/count', { filter: { channels: ['bench_3'], minOrders: 1 } });
    await timed('segment count, tag + stage + active', '/api/admin/segments/count', { filter: { tags: ['bench-vip'], stages: ['dormant', 'repeat'], status: 'active' } });
    await timed('segment count, text search', '/api/admin/segments/count', { filter: { q: '客户0012' } });
    await timed('segment count, spent ≥ ¥500, score ≥ 20', '/api/admin/segments/count', { filter: { minSpentFen: 50_000, minScore: 20 } });
    await timed('list, first page (50, newest added)', '/api/admin/contacts');
    await timed('list, first page by spent, channel filter', '/api/admin/contacts?channel=bench_3&sort=spent&limit=50');
    const first = await call('/api/admin/contacts?limit=50');
    await timed('list, a later page (cursor)', `/api/admin/contacts?limit=50&cursor=${String(first.nextCursor)}`);
    console.log(`Customers over ${CONTACTS.toLocaleString()} contacts and ${ORDERS.toLocaleString()} orders, ${RUNS} runs each (seeding took ${(seeded / 1000).toFixed(1)} s) on ${machineLine()}`);
    console.table(rows);
  } finally {
    await system.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
