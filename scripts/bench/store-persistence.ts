/**
 * Embedded store persistence throughput: journal appends of ~1 KB contact-like documents under
 * each fsync policy, then recovery time from the journal alone and from a snapshot.
 * Run: npx tsx scripts/bench/store-persistence.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ObjectId } from 'bson';
import type { Document } from 'bson';
import { createPersistence } from '../../server/src/store/embedded/persistence/index.ts';
import type { FsyncPolicy, JournalOp } from '../../server/src/store/embedded/persistence/index.ts';

const DOCS = 100_000;
const BATCH = 1_000;

function contact(i: number): Document {
  return {
    _id: new ObjectId(),
    corpId: 'ww5f3c2a1b9e8d7c6b',
    externalUserId: `wmXyZ${i.toString(36).padStart(12, '0')}`,
    name: `客户 ${i}`,
    mobile: `138${String(i).padStart(8, '0')}`,
    tags: ['vip', `campaign-${i % 40}`, 'wechat'],
    followUsers: [{ userId: `sales${i % 25}`, remark: '老客户，年底复购', createdAt: new Date(1_700_000_000_000 + i * 1000) }],
    score: (i % 100) + 0.5,
    visits: i % 17,
    lastMessageAt: new Date(),
    notes: '备注'.repeat(120) + i,
  };
}

function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  return fn().then((value) => ({ ms: performance.now() - start, value }));
}

async function appendAll(dir: string, fsync: FsyncPolicy, docs: Document[]): Promise<number> {
  const p = createPersistence({ dir, fsync });
  await p.recover();
  const { ms } = await time(async () => {
    for (let i = 0; i < docs.length; i += BATCH) {
      await p.append(docs.slice(i, i + BATCH).map((doc): JournalOp => ({ op: 'put', db: 'scrm', coll: 'contacts', doc })));
    }
  });
  await p.close();
  return ms;
}

async function recoverTiming(dir: string): Promise<{ ms: number; snapshotDocs: number; journalOps: number }> {
  const p = createPersistence({ dir, fsync: 'batch' });
  const { ms, value } = await time(() => p.recover());
  await p.close();
  return { ms, snapshotDocs: value.report.snapshotDocs, journalOps: value.report.journalOps };
}

export async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'scrm-bench-persistence-'));
  try {
    console.log(
      `store-persistence bench: node ${process.version}, ${os.cpus().length} cpus, load avg ${os.loadavg()[0]?.toFixed(1)}, ` +
        `${DOCS} docs in batches of ${BATCH}, tmpdir ${os.tmpdir()}`,
    );
    const docs = Array.from({ length: DOCS }, (_, i) => contact(i));
    const journalOnlyDir = path.join(root, 'batch');
    // Untimed pass so the first measured policy does not also pay for JIT warm-up.
    await appendAll(path.join(root, 'warmup'), 'never', docs.slice(0, 20_000));
    for (const policy of ['batch', 'always', 'never'] as const) {
      const ms = await appendAll(path.join(root, policy), policy, docs);
      console.log(`append fsync=${policy.padEnd(6)} ${Math.round((DOCS / ms) * 1000).toLocaleString('en')} docs/s (${ms.toFixed(0)} ms)`);
    }

    const journalOnly = await recoverTiming(journalOnlyDir);
    console.log(`recover journal-only:   ${journalOnly.ms.toFixed(0)} ms (${journalOnly.journalOps} ops)`);

    const p = createPersistence({ dir: journalOnlyDir, fsync: 'batch' });
    await p.recover();
    const snap = await time(() => p.writeSnapshot([{ db: 'scrm', coll: 'contacts', options: {}, indexes: [{ name: '_id_', key: { _id: 1 } }], docs }]));
    await p.close();
    console.log(`write snapshot:         ${snap.ms.toFixed(0)} ms`);
    const fromSnapshot = await recoverTiming(journalOnlyDir);
    console.log(`recover from snapshot:  ${fromSnapshot.ms.toFixed(0)} ms (${fromSnapshot.snapshotDocs} docs)`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
