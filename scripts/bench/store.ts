/**
 * Store benchmark: contact-shaped documents through mongoose, against the embedded store (always,
 * on a temp dbPath so journaling is included) and against MONGODB_URI when set, printed side by side
 * with the targets the embedded store is expected to meet.
 *
 *   npx tsx scripts/bench/store.ts            # 100,000 docs
 *   BENCH_DOCS=20000 npx tsx scripts/bench/store.ts
 *   node --expose-gc --import tsx scripts/bench/store.ts   # steadier memory figures
 *   BENCH_STORE_MODE=thread npx tsx scripts/bench/store.ts # engine on a worker thread, as npm start runs it
 *
 * By default the engine shares the client's thread: the workload awaits each call in turn, so a
 * second thread adds a hop without overlapping any work (measured: no faster).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { calculateObjectSize } from 'bson';
import { Schema } from 'mongoose';
import type { Connection, Types } from 'mongoose';
import { connect, makeTempDir, removeDir, startEmbedded, uniqueDbName } from '../../test/store/target.ts';
import { startEmbeddedMongoThread, type EmbeddedMongo } from '../../server/src/store/embedded/index.ts';
import { machineLine } from './machine.ts';

const DOCS = Number(process.env.BENCH_DOCS ?? 100_000);
const BATCH = 1_000;
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 5_000);
const WARMUP = 200;
const OWNERS = 500;
const THREAD = process.env.BENCH_STORE_MODE === 'thread';
const startStore = (dbPath: string) =>
  THREAD ? startEmbeddedMongoThread({ host: '127.0.0.1', port: 0, dbPath }) : startEmbedded({ dbPath });

const TARGETS = {
  insertDocsPerSec: 20_000,
  findOneP50Ms: 0.5,
  updateOneP50Ms: 1,
  recoveryMs: 3_000,
} as const;

// ---------------------------------------------------------------------------------------------
// data

const TAG_POOL = ['vip', 'new', 'lead', 'churn-risk', 'wechat-pay', 'expo-2024', 'referral', 'b2b', 'b2c', 'hot', 'cold', 'sh', 'bj', 'sz'];

/** Deterministic PRNG so every run (and every target) loads the same documents. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const externalUserId = (i: number) => `wmAbCdEf${i.toString(36).padStart(8, '0')}_ext`;
const ownerOf = (i: number) => `owner-${i % OWNERS}`;

function contact(i: number, rand: () => number) {
  const pick = () => TAG_POOL[Math.floor(rand() * TAG_POOL.length)] ?? 'vip';
  const follows = 1 + Math.floor(rand() * 3);
  return {
    external_userid: externalUserId(i),
    name: `客户 ${i} / Customer ${i}`,
    owner: ownerOf(i),
    corpId: `ww${(i % 7).toString().padStart(16, '0')}`,
    tags: Array.from({ length: 3 + Math.floor(rand() * 4) }, pick),
    followUsers: Array.from({ length: follows }, (_, k) => ({
      userid: `sales-${(i + k) % 200}`,
      remark: `added via QR code at booth ${k}; prefers WeChat calls after 18:00`,
      addedAt: new Date(Date.UTC(2024, 0, 1) + ((i * 7919 + k) % 31_536_000) * 1000),
      tagIds: [`et${k}a`, `et${k}b`],
    })),
    description: `Imported contact ${i}. `.padEnd(180, 'lorem ipsum dolor sit amet '),
    createdAt: new Date(Date.UTC(2023, 0, 1) + i * 60_000),
    score: Math.floor(rand() * 1000),
  };
}

const contactSchema = () => {
  const schema = new Schema(
    {
      external_userid: { type: String, required: true, unique: true },
      name: String,
      owner: { type: String, index: true },
      corpId: String,
      tags: [String],
      followUsers: [
        new Schema({ userid: String, remark: String, addedAt: Date, tagIds: [String] }, { _id: false }),
      ],
      description: String,
      createdAt: Date,
      score: Number,
    },
    { versionKey: false, autoIndex: false },
  );
  return schema;
};

// ---------------------------------------------------------------------------------------------
// measurement

interface Latency {
  p50: number;
  p99: number;
}

function percentiles(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Runs `op` sequentially `count` times after a warm-up; one request in flight, like a request handler. */
async function timeOps(count: number, op: (i: number) => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < WARMUP; i++) await op(i);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await op(i);
    samples.push(performance.now() - t0);
  }
  return percentiles(samples);
}

function settle(): void {
  // Only with --expose-gc; otherwise memory figures include garbage not yet collected.
  (globalThis as { gc?: () => void }).gc?.();
}

interface Figures {
  label: string;
  insertDocsPerSec: number;
  findUnique: Latency;
  findIndexed: Latency;
  updateById: Latency;
  recoveryMs: number | null;
  recoveredDocs: number | null;
  rssMiBPer100k: number;
  heapMiBPer100k: number;
  note: string;
}

const mib = (bytes: number) => bytes / 2 ** 20;

async function runWorkload(conn: Connection, label: string, note: string): Promise<Omit<Figures, 'recoveryMs' | 'recoveredDocs'>> {
  const Contact = conn.model('Contact', contactSchema(), 'contacts');
  await Contact.syncIndexes();
  const rand = rng(42);

  settle();
  const memBefore = process.memoryUsage();
  const ids: Types.ObjectId[] = [];
  const t0 = performance.now();
  for (let start = 0; start < DOCS; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, DOCS - start) }, (_, k) => contact(start + k, rand));
    // lean + no validation: measure the store, not mongoose document construction
    const inserted = await Contact.insertMany(batch, { lean: true });
    for (const doc of inserted) ids.push(doc._id as Types.ObjectId);
  }
  const insertMs = performance.now() - t0;
  settle();
  const memAfter = process.memoryUsage();
  const scale = 100_000 / DOCS;

  const pickRand = rng(7);
  const randomIndex = () => Math.floor(pickRand() * DOCS);
  const findUnique = await timeOps(LOOKUPS, () => Contact.findOne({ external_userid: externalUserId(randomIndex()) }).lean());
  const findIndexed = await timeOps(LOOKUPS, () => Contact.findOne({ owner: ownerOf(randomIndex()) }).lean());
  const updateById = await timeOps(LOOKUPS, (i) =>
    Contact.updateOne({ _id: ids[randomIndex()] }, { $set: { score: i }, $push: { tags: { $each: ['bench'], $slice: -8 } } }),
  );

  return {
    label,
    note,
    insertDocsPerSec: DOCS / (insertMs / 1000),
    findUnique,
    findIndexed,
    updateById,
    rssMiBPer100k: mib(memAfter.rss - memBefore.rss) * scale,
    heapMiBPer100k: mib(memAfter.heapUsed - memBefore.heapUsed) * scale,
  };
}

async function benchEmbedded(): Promise<Figures> {
  const dir = await makeTempDir('bench-store');
  const dbName = 'bench';
  let server: EmbeddedMongo | undefined;
  let conn: Connection | undefined;
  try {
    server = await startStore(dir);
    conn = await connect(server.uri, dbName);
    const figures = await runWorkload(conn, THREAD ? 'embedded (worker thread, dbPath, default fsync)' : 'embedded (same thread, dbPath, default fsync)', THREAD ? 'memory excludes the worker thread\'s heap (RSS includes it)' : 'in-process: memory includes the engine');
    await conn.close();
    await server.close();
    conn = undefined;
    server = undefined;

    // Recovery: from a fresh start on the same files until the first query has its answer.
    const t0 = performance.now();
    server = await startStore(dir);
    conn = await connect(server.uri, dbName);
    const probe = await conn.collection('contacts').findOne({ external_userid: externalUserId(DOCS - 1) });
    const recoveryMs = performance.now() - t0;
    if (!probe) throw new Error('recovery lost the last inserted document');
    const recoveredDocs = await conn.collection('contacts').estimatedDocumentCount();
    return { ...figures, recoveryMs, recoveredDocs };
  } finally {
    await conn?.close();
    await server?.close();
    await removeDir(dir);
  }
}

async function benchMongo(uri: string): Promise<Figures> {
  const conn = await connect(uri, uniqueDbName('bench'));
  try {
    const figures = await runWorkload(conn, 'MongoDB (MONGODB_URI)', 'memory is this client process only');
    return { ...figures, recoveryMs: null, recoveredDocs: null };
  } finally {
    await conn.dropDatabase();
    await conn.close();
  }
}

// ---------------------------------------------------------------------------------------------
// report

const fmt = (n: number | null, digits = 2) => (n === null || Number.isNaN(n) ? '—' : n.toFixed(digits));
const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');

function report(results: Figures[], avgDocBytes: number): void {
  const embedded = results[0];
  console.log(`\nStore benchmark — ${machineLine()}`);
  console.log(`CPU: ${os.cpus()[0]?.model.trim() ?? 'unknown'} · cores: ${os.cpus().length} · Node ${process.version}`);
  console.log(
    `${DOCS.toLocaleString('en')} contact docs (avg ${Math.round(avgDocBytes)} B BSON), insertMany batches of ${BATCH}, ` +
      `${LOOKUPS.toLocaleString('en')} sequential ops per latency row (after ${WARMUP} warm-up), mongoose ${'→'} wire protocol on loopback`,
  );
  const rows: Array<{ metric: string; target: string; values: string[]; ok?: boolean }> = [
    {
      metric: 'insertMany docs/s',
      target: `≥ ${TARGETS.insertDocsPerSec.toLocaleString('en')}`,
      values: results.map((r) => Math.round(r.insertDocsPerSec).toLocaleString('en')),
      ok: embedded && embedded.insertDocsPerSec >= TARGETS.insertDocsPerSec,
    },
    {
      metric: 'findOne unique p50 / p99 ms',
      target: `p50 < ${TARGETS.findOneP50Ms}`,
      values: results.map((r) => `${fmt(r.findUnique.p50, 3)} / ${fmt(r.findUnique.p99, 3)}`),
      ok: embedded && embedded.findUnique.p50 < TARGETS.findOneP50Ms,
    },
    {
      metric: 'findOne indexed non-unique p50 / p99 ms',
      target: `p50 < ${TARGETS.findOneP50Ms}`,
      values: results.map((r) => `${fmt(r.findIndexed.p50, 3)} / ${fmt(r.findIndexed.p99, 3)}`),
      ok: embedded && embedded.findIndexed.p50 < TARGETS.findOneP50Ms,
    },
    {
      metric: 'updateOne by _id p50 / p99 ms',
      target: `p50 < ${TARGETS.updateOneP50Ms}`,
      values: results.map((r) => `${fmt(r.updateById.p50, 3)} / ${fmt(r.updateById.p99, 3)}`),
      ok: embedded && embedded.updateById.p50 < TARGETS.updateOneP50Ms,
    },
    {
      metric: 'restart + recovery to first answer ms',
      target: `< ${TARGETS.recoveryMs.toLocaleString('en')}`,
      values: results.map((r) => (r.recoveryMs === null ? 'n/a' : `${fmt(r.recoveryMs, 0)} (${r.recoveredDocs?.toLocaleString('en')} docs)`)),
      ok: embedded?.recoveryMs != null && embedded.recoveryMs < TARGETS.recoveryMs,
    },
    {
      metric: 'RSS growth MiB per 100k docs',
      target: '—',
      values: results.map((r) => fmt(r.rssMiBPer100k, 0)),
    },
    {
      metric: 'heapUsed growth MiB per 100k docs',
      target: '—',
      values: results.map((r) => fmt(r.heapMiBPer100k, 0)),
    },
  ];
  console.table(
    rows.map((row) => {
      const line: Record<string, string> = { metric: row.metric };
      results.forEach((r, i) => {
        line[r.label] = row.values[i] ?? '—';
      });
      line.target = row.target;
      line['embedded meets?'] = row.ok === undefined ? '' : verdict(row.ok);
      return line;
    }),
  );
  for (const r of results) console.log(`note — ${r.label}: ${r.note}`);
  if (!(globalThis as { gc?: unknown }).gc) console.log('note — run with node --expose-gc for memory figures without pending garbage');
}

export async function main(): Promise<void> {
  const sampleRand = rng(1);
  const avgDocBytes =
    Array.from({ length: 200 }, (_, i) => calculateObjectSize(contact(i, sampleRand))).reduce((a, b) => a + b, 0) / 200;
  const results: Figures[] = [await benchEmbedded()];
  const external = process.env.MONGODB_URI;
  if (external) results.push(await benchMongo(external));
  report(results, avgDocBytes);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
