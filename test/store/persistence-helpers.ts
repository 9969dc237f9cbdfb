import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BSON } from 'bson';
import type { Document } from 'bson';
import { createPersistence } from '../../server/src/store/embedded/persistence/index.ts';
import type { FsyncPolicy, JournalOp, Persistence, RecoveredState } from '../../server/src/store/embedded/persistence/index.ts';

export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scrm-persistence-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Opens and recovers; the caller closes. */
export async function openRecovered(dir: string, fsync: FsyncPolicy = 'batch'): Promise<{ p: Persistence; state: RecoveredState }> {
  const p = createPersistence({ dir, fsync });
  const state = await p.recover();
  return { p, state };
}

export async function recoverOnce(dir: string): Promise<RecoveredState> {
  const { p, state } = await openRecovered(dir);
  await p.close();
  return state;
}

/** Byte-level equality is the fidelity we promise: same BSON types, not just equal JS values. */
export function bsonBytes(value: Document): string {
  return Buffer.from(BSON.serialize(value)).toString('hex');
}

/** A recovered document (put ops and snapshot docs come back as BSON), with every BSON type kept distinct. */
export function typed(doc: Document | Uint8Array): Document {
  return doc instanceof Uint8Array ? BSON.deserialize(doc, { promoteValues: false, bsonRegExp: true }) : doc;
}

export function put(coll: string, doc: Document, db = 'app'): JournalOp {
  return { op: 'put', db, coll, doc };
}

/** Applies recovered state to plain maps keyed by collection and hex-serialised _id. */
export function materialise(state: RecoveredState): Map<string, Map<string, Document>> {
  const colls = new Map<string, Map<string, Document>>();
  const collection = (db: string, coll: string): Map<string, Document> => {
    const key = `${db}.${coll}`;
    let docs = colls.get(key);
    if (!docs) colls.set(key, (docs = new Map()));
    return docs;
  };
  for (const image of state.collections) {
    const docs = collection(image.db, image.coll);
    for (const doc of image.docs.map(typed)) docs.set(bsonBytes({ id: doc._id }), doc);
  }
  for (const op of state.ops) {
    if (op.op === 'put') {
      const doc = typed(op.doc);
      collection(op.db, op.coll).set(bsonBytes({ id: doc._id }), doc);
    }
    else if (op.op === 'del') collection(op.db, op.coll).delete(bsonBytes({ id: op.id }));
    else if (op.op === 'dropCollection') colls.delete(`${op.db}.${op.coll}`);
    else if (op.op === 'createCollection') collection(op.db, op.coll);
  }
  return colls;
}
