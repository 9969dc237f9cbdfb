import { spawn } from 'node:child_process';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { Binary, BSON, BSONRegExp, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import type { Document } from 'bson';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPersistence } from '../../server/src/store/embedded/persistence/index.ts';
import type { CollectionImage, FsyncPolicy, JournalOp } from '../../server/src/store/embedded/persistence/index.ts';
import { tableCrc32 } from '../../server/src/store/embedded/crc.ts';
import { bsonBytes, makeTempDir, materialise, openRecovered, put, recoverOnce, typed } from './persistence-helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(async () => {
  await cleanup();
});

const JOURNAL_1 = 'journal-000000000001.log';

function everyTypeDoc(): Document {
  return {
    _id: new ObjectId(),
    int32: new Int32(7),
    plainInt: 42,
    long: Long.fromString('9007199254740993'),
    integralDouble: new Double(5),
    double: 3.25,
    decimal: Decimal128.fromString('1234.5678901234567890'),
    date: new Date('2024-05-06T07:08:09.123Z'),
    binary: new Binary(Buffer.from([0, 1, 2, 255]), 0x80),
    uuid: new UUID('3b241101-e2bb-4255-8caf-4136c566a962'),
    regex: /ab+c/i,
    bsonRegex: new BSONRegExp('^x.*y$', 'lmsux'),
    nil: null,
    bool: false,
    timestamp: new Timestamp({ t: 1700000000, i: 3 }),
    minKey: new MinKey(),
    maxKey: new MaxKey(),
    string: '企业微信 🙂',
    nested: { a: [1, new Double(2), [new Int32(3), { deep: Long.fromNumber(4) }]], empty: {}, emptyArr: [] },
  };
}

describe('journal round trip', () => {
  it('keeps every BSON type exact through append, close and recover', async () => {
    const doc = everyTypeDoc();
    const { p } = await openRecovered(dir);
    await p.append([put('contacts', doc)]);
    await p.close();

    const state = await recoverOnce(dir);
    expect(state.ops).toHaveLength(1);
    const op = state.ops[0]!;
    expect(op.op).toBe('put');
    if (op.op !== 'put') return;
    const back = typed(op.doc);
    expect(bsonBytes(back)).toBe(bsonBytes(doc));
    expect(back.integralDouble).toBeInstanceOf(Double);
    expect(back.int32).toBeInstanceOf(Int32);
    expect(back.long).toBeInstanceOf(Long);
  });

  it('journals a put given as BSON bytes exactly as if the document had been serialised', async () => {
    const doc = everyTypeDoc();
    const { p } = await openRecovered(dir);
    await p.append([{ op: 'put', db: 'app', coll: 'contacts', doc: BSON.serialize(doc) }, put('contacts', doc)]);
    await p.close();

    const [fromBytes, fromDoc] = (await recoverOnce(dir)).ops;
    // Recovery hands put documents back as their BSON, identical whichever way they were given.
    expect(fromBytes?.op === 'put' && fromBytes.doc).toBeInstanceOf(Uint8Array);
    expect(fromBytes?.op === 'put' && Buffer.from(fromBytes.doc as Uint8Array).toString('hex')).toBe(bsonBytes(doc));
    expect(fromDoc?.op === 'put' && Buffer.from(fromDoc.doc as Uint8Array).toString('hex')).toBe(bsonBytes(doc));
  });

  it('round-trips del ids of several types and every op kind', async () => {
    const ids: unknown[] = [new ObjectId(), 'str-id', 17, new Double(1.5), Long.fromNumber(2 ** 40), { compound: 1, k: 'v' }, new UUID()];
    const ops: JournalOp[] = [
      { op: 'createCollection', db: 'app', coll: 'c', options: { capped: false, validator: { n: { $gt: new Int32(1) } } } },
      {
        op: 'createIndex',
        db: 'app',
        coll: 'c',
        index: { name: 'n_1_t_-1', key: { n: 1, t: -1, loc: '2dsphere' }, unique: true, sparse: false, expireAfterSeconds: 3600, partialFilterExpression: { n: { $exists: true } } },
      },
      ...ids.map((id): JournalOp => ({ op: 'del', db: 'app', coll: 'c', id })),
      { op: 'dropIndex', db: 'app', coll: 'c', name: 'n_1_t_-1' },
      { op: 'dropCollection', db: 'app', coll: 'c' },
      { op: 'dropDatabase', db: 'app' },
    ];
    const { p } = await openRecovered(dir);
    await p.append(ops);
    await p.close();

    const state = await recoverOnce(dir);
    expect(state.ops.map((op) => op.op)).toEqual(ops.map((op) => op.op));
    state.ops.forEach((op, i) => expect(bsonBytes(op)).toBe(bsonBytes(ops[i]!)));
    const index = state.ops[1];
    if (index?.op !== 'createIndex') throw new Error('expected createIndex');
    // Typed fields come back as the contract's plain JS types.
    expect(index.index.key).toEqual({ n: 1, t: -1, loc: '2dsphere' });
    expect(index.index.expireAfterSeconds).toBe(3600);
  });

  it('keeps concurrent appends in call order', async () => {
    const { p } = await openRecovered(dir);
    await Promise.all(Array.from({ length: 200 }, (_, i) => p.append([put('c', { _id: i })])));
    await p.close();
    const state = await recoverOnce(dir);
    expect(state.ops.map((op) => (op.op === 'put' ? typed(op.doc)._id.valueOf() : null))).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it.each(['always', 'batch', 'never'] as const)('appends and recovers under fsync=%s', async (policy) => {
    const { p } = await openRecovered(dir, policy);
    for (let i = 0; i < 20; i++) await p.append([put('c', { _id: i })]);
    await p.close();
    const { p: again, state } = await openRecovered(dir, policy);
    expect(state.ops).toHaveLength(20);
    await again.append([put('c', { _id: 20 })]);
    await again.close();
    expect((await recoverOnce(dir)).ops).toHaveLength(21);
  });

  it('splits a huge batch into parts and recovers it whole', async () => {
    const docs = Array.from({ length: 10_000 }, (_, i) => ({ _id: i, body: 'y'.repeat(1000) }));
    const { p } = await openRecovered(dir);
    await p.append(docs.map((doc) => put('big', doc)));
    await p.close();
    const state = await recoverOnce(dir);
    expect(state.ops).toHaveLength(10_000);
    expect(state.report.droppedTailBytes).toBe(0);
  });

  it('rejects append before recover and after close', async () => {
    const p = createPersistence({ dir, fsync: 'batch' });
    await expect(p.append([])).rejects.toThrow(/recover\(\) first/);
    await p.recover();
    await p.close();
    await expect(p.append([])).rejects.toThrow(/closed/);
  });

  it('reports journal bytes since the last snapshot', async () => {
    const { p } = await openRecovered(dir);
    expect(p.journalBytes()).toBe(0);
    await p.append([put('c', { _id: 1 })]);
    const afterOne = p.journalBytes();
    expect(afterOne).toBeGreaterThan(0);
    await p.writeSnapshot([]);
    expect(p.journalBytes()).toBe(0);
    await p.append([put('c', { _id: 2 })]);
    expect(p.journalBytes()).toBe(afterOne);
    await p.close();
  });
});

describe('torn and corrupt tails', () => {
  async function writeThreeBatches(): Promise<{ sizeAfterTwo: number; file: string }> {
    const file = path.join(dir, JOURNAL_1);
    const { p } = await openRecovered(dir);
    await p.append([put('c', { _id: 1 })]);
    await p.append([put('c', { _id: 2 }), put('c', { _id: 3 })]);
    await p.close();
    const sizeAfterTwo = (await stat(file)).size;
    const { p: again } = await openRecovered(dir);
    await again.append([put('c', { _id: 4, body: 'z'.repeat(500) })]);
    await again.close();
    return { sizeAfterTwo, file };
  }

  async function expectRecoveredTwoThenContinues(sizeAfterTwo: number, file: string): Promise<void> {
    const { p, state } = await openRecovered(dir);
    expect(state.ops).toHaveLength(3);
    expect(state.report.droppedTailBytes).toBeGreaterThan(0);
    expect((await stat(file)).size).toBe(sizeAfterTwo);
    await p.append([put('c', { _id: 5 })]);
    await p.close();
    const after = await recoverOnce(dir);
    expect(after.report.droppedTailBytes).toBe(0);
    expect(after.ops.map((op) => (op.op === 'put' ? typed(op.doc)._id.valueOf() : null))).toEqual([1, 2, 3, 5]);
  }

  it('drops a record cut in the middle, truncates, and keeps appending', async () => {
    const { sizeAfterTwo, file } = await writeThreeBatches();
    const full = (await stat(file)).size;
    await truncate(file, sizeAfterTwo + Math.floor((full - sizeAfterTwo) / 2));
    await expectRecoveredTwoThenContinues(sizeAfterTwo, file);
  });

  it('drops a record cut inside its frame header', async () => {
    const { sizeAfterTwo, file } = await writeThreeBatches();
    await truncate(file, sizeAfterTwo + 3);
    await expectRecoveredTwoThenContinues(sizeAfterTwo, file);
  });

  it('drops a record whose payload has a flipped byte (CRC mismatch)', async () => {
    const { sizeAfterTwo, file } = await writeThreeBatches();
    const bytes = await readFile(file);
    const at = sizeAfterTwo + 8 + 40;
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(file, bytes);
    await expectRecoveredTwoThenContinues(sizeAfterTwo, file);
  });

  it('drops a split batch whose last part is missing', async () => {
    const { p } = await openRecovered(dir);
    await p.append([put('c', { _id: 'before' })]);
    await p.close();
    const file = path.join(dir, JOURNAL_1);
    const before = (await stat(file)).size;
    const { p: again } = await openRecovered(dir);
    await again.append(Array.from({ length: 10_000 }, (_, i) => put('big', { _id: i, body: 'y'.repeat(1000) })));
    await again.close();
    // Cut inside the final part: the earlier, intact parts must not be applied on their own.
    await truncate(file, (await stat(file)).size - 100);

    const { p: third, state } = await openRecovered(dir);
    expect(state.ops).toHaveLength(1);
    expect((await stat(file)).size).toBe(before);
    await third.close();
  });
});

describe('snapshots', () => {
  function image(coll: string, docs: Document[]): CollectionImage {
    return { db: 'app', coll, options: { capped: false }, indexes: [{ name: '_id_', key: { _id: 1 } }, { name: 'tag_1', key: { tag: 1 }, sparse: true }], docs };
  }

  it('recovers snapshot plus later appends, skipping obsolete journals', async () => {
    const { p } = await openRecovered(dir);
    const docs = Array.from({ length: 3000 }, (_, i) => ({ _id: i, tag: `t${i % 5}`, body: 'b'.repeat(700), typed: new Int32(i) }));
    await p.append(docs.map((doc) => put('contacts', doc)));
    await p.writeSnapshot([image('contacts', docs), image('empty', [])]);
    await p.append([put('contacts', { _id: 3000 }), { op: 'del', db: 'app', coll: 'contacts', id: 0 }]);
    await p.close();

    expect((await readdir(dir)).sort()).toEqual(['journal-000000000002.log', 'snapshot.bin']);
    const state = await recoverOnce(dir);
    expect(state.report.snapshotDocs).toBe(3000);
    expect(state.report.journalOps).toBe(2);
    expect(state.collections.map((c) => c.coll)).toEqual(['contacts', 'empty']);
    const contacts = state.collections[0]!;
    expect(contacts.indexes).toEqual([{ name: '_id_', key: { _id: 1 } }, { name: 'tag_1', key: { tag: 1 }, sparse: true }]);
    expect(Buffer.from(contacts.docs[5]!).toString('hex')).toBe(bsonBytes(docs[5]!));
    const coll = materialise(state).get('app.contacts')!;
    expect(coll.size).toBe(3000);
    expect(coll.has(bsonBytes({ id: 0 }))).toBe(false);
    expect(coll.has(bsonBytes({ id: 3000 }))).toBe(true);
  });

  it('recovers collection options and index definitions holding a field named docs exactly', async () => {
    const { p } = await openRecovered(dir);
    const options = { validator: { $or: [{ docs: [{ a: 1 }] }] } };
    const indexes = [{ name: 'k_1', key: { k: 1 }, partialFilterExpression: { docs: [{ k: 1 }] } }];
    await p.writeSnapshot([{ db: 'app', coll: 'c', options, indexes, docs: [{ _id: 1, docs: [{ nested: true }] }] }]);
    await p.close();

    const [coll] = (await recoverOnce(dir)).collections;
    // Typed wrappers come back (Int32 for 1), so compare the BSON.
    expect(bsonBytes(coll?.options ?? {})).toBe(bsonBytes(options));
    expect(coll?.indexes.map((ix) => bsonBytes(ix))).toEqual(indexes.map((ix) => bsonBytes(ix)));
    expect(coll?.docs.map((d) => Buffer.from(d).toString('hex'))).toEqual([bsonBytes({ _id: 1, docs: [{ nested: true }] })]);
  });

  it('ignores and deletes a leftover temp snapshot', async () => {
    const { p } = await openRecovered(dir);
    await p.append([put('c', { _id: 1 })]);
    await p.writeSnapshot([image('c', [{ _id: 1 }])]);
    await p.append([put('c', { _id: 2 })]);
    await p.close();
    await writeFile(path.join(dir, 'snapshot.bin.tmp'), Buffer.from('half a snapshot, then the power went'));

    const state = await recoverOnce(dir);
    expect(state.report.snapshotDocs).toBe(1);
    expect(state.ops).toHaveLength(1);
    expect(await readdir(dir)).not.toContain('snapshot.bin.tmp');
  });

  it('skips journal records already covered by the snapshot (seq <= lastSeq)', async () => {
    const { p } = await openRecovered(dir);
    await p.append([{ op: 'createCollection', db: 'app', coll: 'c', options: {} }]);
    await p.append([put('c', { _id: 1 })]);
    await p.close();
    const oldJournal = await readFile(path.join(dir, JOURNAL_1));

    const { p: again } = await openRecovered(dir);
    await again.writeSnapshot([image('c', [{ _id: 1 }])]);
    await again.close();
    // As if the old records had ended up in the journal that follows the snapshot.
    await writeFile(path.join(dir, 'journal-000000000002.log'), oldJournal);
    // And as if the old journal had survived a crash before its deletion.
    await writeFile(path.join(dir, JOURNAL_1), oldJournal);

    const { p: third, state } = await openRecovered(dir);
    expect(state.ops).toEqual([]);
    expect(await readdir(dir)).not.toContain(JOURNAL_1);
    await third.append([put('c', { _id: 2 })]);
    await third.close();
    const final = await recoverOnce(dir);
    expect(final.ops).toHaveLength(1);
  });

  it('replays every journal when a snapshot dies between journal rotation and rename', async () => {
    const { p } = await openRecovered(dir);
    await p.append([put('c', { _id: 1 })]);
    await p.writeSnapshot([image('c', [{ _id: 1 }])]);
    await p.append([put('c', { _id: 2 })]);
    function* dying(): Generator<Document> {
      yield { _id: 1 };
      throw new Error('crash mid-snapshot');
    }
    await expect(p.writeSnapshot([{ ...image('c', []), docs: dying() }])).rejects.toThrow('crash mid-snapshot');
    await p.append([put('c', { _id: 3 })]);
    expect(p.journalBytes()).toBeGreaterThan(0);
    await p.close();
    expect((await readdir(dir)).sort()).toEqual(['journal-000000000002.log', 'journal-000000000003.log', 'snapshot.bin']);

    const state = await recoverOnce(dir);
    expect(state.report.snapshotDocs).toBe(1);
    expect([...materialise(state).get('app.c')!.values()].map((doc) => doc._id.valueOf())).toEqual([1, 2, 3]);
  });

  it('fails clearly on a corrupt snapshot', async () => {
    const { p } = await openRecovered(dir);
    await p.writeSnapshot([image('c', Array.from({ length: 100 }, (_, i) => ({ _id: i })))]);
    await p.close();
    const file = path.join(dir, 'snapshot.bin');
    const bytes = await readFile(file);
    bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 0x01;
    await writeFile(file, bytes);
    const broken = createPersistence({ dir, fsync: 'batch' });
    await expect(broken.recover()).rejects.toThrow(/corrupt snapshot .*snapshot\.bin at offset \d+/);
    await broken.close();
  });

  it('removes the temp file when the collection iterable throws, and keeps the journal', async () => {
    const { p } = await openRecovered(dir);
    await p.append([put('c', { _id: 1 })]);
    function* failing(): Generator<Document> {
      yield { _id: 1 };
      throw new Error('engine exploded');
    }
    await expect(p.writeSnapshot([image('c', []), { ...image('d', []), docs: failing() }])).rejects.toThrow('engine exploded');
    await p.append([put('c', { _id: 2 })]);
    await p.close();
    expect((await readdir(dir)).some((name) => name.includes('snapshot'))).toBe(false);
    expect((await recoverOnce(dir)).ops).toHaveLength(2);
  });
});

describe('locking', () => {
  it('refuses a second open of the same directory', async () => {
    const { p } = await openRecovered(dir);
    expect(() => createPersistence({ dir, fsync: 'batch' })).toThrow(new RegExp(`${path.basename(dir)}.*pid ${process.pid}`));
    await p.close();
    const reopened = createPersistence({ dir, fsync: 'batch' });
    await reopened.close();
  });

  it('names the live process holding the lock', async () => {
    await writeFile(path.join(dir, 'LOCK'), `${process.ppid}\n`);
    expect(() => createPersistence({ dir, fsync: 'batch' })).toThrow(new RegExp(`locked by running process pid ${process.ppid}`));
  });

  it('takes over a lock left by a dead process', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    await writeFile(path.join(dir, 'LOCK'), `${deadPid}\n`);
    const p = createPersistence({ dir, fsync: 'batch' });
    expect((await readFile(path.join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    await p.close();
    expect(await readdir(dir)).not.toContain('LOCK');
  });
});

describe('kill -9', () => {
  const writerScript = fileURLToPath(new URL('./fixtures/persistence-writer.ts', import.meta.url));

  async function killMidStream(policy: FsyncPolicy, minAcks: number): Promise<Set<number>> {
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dir, policy], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Set<number>();
    let stderr = '';
    let pendingLine = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = (pendingLine + chunk.toString()).split('\n');
        pendingLine = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('ack ')) acked.add(Number(line.slice(4)));
        if (acked.size >= minAcks && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`writer exited early (${code ?? signal}): ${stderr}`));
      });
    });
    await exited;
    // Acks already in the pipe when the kill landed are acknowledged writes too.
    for (const line of pendingLine.split('\n')) if (/^ack \d+$/.test(line)) acked.add(Number(line.slice(4)));
    return acked;
  }

  it.each([
    ['batch', 400],
    ['always', 150],
  ] as const)('keeps every acknowledged batch under fsync=%s', async (policy, minAcks) => {
    const acked = await killMidStream(policy, minAcks);
    const state = await recoverOnce(dir);
    const recovered = new Set<number>();
    for (const op of state.ops) if (op.op === 'put') recovered.add(toNumber(typed(op.doc).n));
    const missing = [...acked].filter((n) => !recovered.has(n));
    expect(missing).toEqual([]);
    expect(acked.size).toBeGreaterThanOrEqual(minAcks);
  });

  function toNumber(value: unknown): number {
    return Number((value as { valueOf(): number }).valueOf());
  }
});

describe('crc32', () => {
  it('table fallback matches zlib.crc32', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff));
    expect(tableCrc32(data)).toBe(zlib.crc32(data));
    expect(tableCrc32(data.subarray(500), tableCrc32(data.subarray(0, 500)))).toBe(zlib.crc32(data));
  });
});
