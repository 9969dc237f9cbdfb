import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../server/src/store/embedded/engine.ts';
import { createPersistence } from '../../server/src/store/embedded/persistence/index.ts';
import type { Persistence } from '../../server/src/store/embedded/persistence/index.ts';
import { makeTempDir } from './persistence-helpers.ts';

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
