import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../server/src/store/embedded/engine.ts';
import type { SnapshotPolicy } from '../../server/src/store/embedded/engine.ts';
import { createPersistence } from '../../server/src/store/embedded/persistence/index.ts';
import type { Persistence } from '../../server/src/store/embedded/persistence/index.ts';
import { makeTempDir } from './persistence-helpers.ts';
import { eventually } from '../support/eventually.ts';

async function open(dir: string): Promise<{ engine: Engine; persistence: Persistence }> {
  const persistence = createPersistence({ dir, fsync: 'never' });
  const engine = new Engine(persistence, () => undefined);
  await engine.recover();
  return { engine, persistence };
}

/** Inserts the way the insert command does: documents as BSON, journaled as such. */
function insert(engine: Engine, from: number, to: number): Promise<void> {
  return engine.write((ops) => {
    const coll = engine.ensureCollection('app', 'contacts', ops);
    for (let n = from; n < to; n++) {
      const rec = coll.insertBson(Buffer.from(BSON.serialize({ _id: n, name: `c${n}`, body: 'x'.repeat(500) })));
      ops.push({ op: 'put', db: 'app', coll: 'contacts', doc: rec.bson ?? rec.doc });
    }
  });
}

describe('snapshots while writes go on', () => {
  it('does not hold writes back, and a crash right after loses none of them', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      const first = await open(dir);
      await insert(first.engine, 0, 2000);

      const order: string[] = [];
      const snapshot = first.engine.snapshot().then(() => order.push('snapshot'));
      const during = (async () => {
        await insert(first.engine, 2000, 2100);
        await first.engine.write((ops) => {
          const coll = first.engine.collection('app', 'contacts')!;
          const five = coll.getById(5)!;
          coll.replace(five, { ...five.doc, name: 'changed' });
          ops.push({ op: 'put', db: 'app', coll: 'contacts', doc: five.doc });
          const seven = coll.getById(7)!;
          coll.remove(seven);
          ops.push({ op: 'del', db: 'app', coll: 'contacts', id: 7 });
        });
        order.push('writes');
      })();
      await Promise.all([snapshot, during]);
      expect(order).toEqual(['writes', 'snapshot']);

      // A crash: the journal is closed, but the engine never writes its closing snapshot.
      await first.persistence.close();

      const second = await open(dir);
      try {
        expect(second.engine.recovered?.snapshotDocs).toBeGreaterThan(0);
        expect(second.engine.recovered?.journalOps).toBeGreaterThan(0);
        const coll = second.engine.collection('app', 'contacts')!;
        expect(coll.records.size).toBe(2099);
        expect(coll.getById(5)?.doc.name).toBe('changed');
        expect(coll.getById(7)).toBeUndefined();
        expect(coll.getById(2099)?.doc.name).toBe('c2099');
      } finally {
        await second.engine.close();
      }
    } finally {
      await cleanup();
    }
  });
});

describe('when a due snapshot is written', () => {
  /** Writes a small batch every 20 ms until `stop`, recording each write and each snapshot in order. */
  async function burst(policy: SnapshotPolicy, batches: number): Promise<string[]> {
    const { dir, cleanup } = await makeTempDir();
    const events: string[] = [];
    const persistence = createPersistence({ dir, fsync: 'never' });
    const engine = new Engine(persistence, (_level, msg) => void (msg === 'snapshot written' && events.push('snapshot')), policy);
    try {
      await engine.recover();
      for (let b = 0; b < batches; b++) {
        await insert(engine, b * 10, b * 10 + 10);
        events.push('write');
        await new Promise((r) => setTimeout(r, 20));
      }
      events.push('burst over');
      await eventually(async () => events.includes('snapshot') || null, 'the due snapshot');
      return events;
    } finally {
      await engine.close();
      await cleanup();
    }
  }
  const small = { journalBytes: 2_000, quietMs: 150, maxWaitMs: 60_000, hardJournalBytes: 100_000_000 };

  it('waits for a pause in writes once the journal is due for one', async () => {
    const events = await burst(small, 30);
    expect(events.indexOf('snapshot')).toBeGreaterThan(events.indexOf('burst over'));
  });

  it('does not wait past the longest wait, nor once the journal reaches its hard bound', async () => {
    for (const policy of [{ ...small, maxWaitMs: 100 }, { ...small, hardJournalBytes: 20_000 }]) {
      const events = await burst(policy, 30);
      expect(events.indexOf('snapshot')).toBeGreaterThan(-1);
      expect(events.indexOf('snapshot')).toBeLessThan(events.indexOf('burst over'));
    }
  });
});
