/**
 * In-memory catalogue of databases and collections, wired to persistence. Writes apply synchronously
 * and then append their journal ops in that same order before the client is acknowledged.
 */
import type { Document } from 'bson';
import { Collection } from './collection.ts';
import { CursorRegistry } from './cursors.ts';
import { MongoServerFault } from './errors.ts';
import type { CollectionImage, IndexDefinition, JournalOp, Persistence, RecoveredState } from './persistence/contract.ts';
import { readField } from './raw-bson.ts';
import { normalize } from './values.ts';

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/**
 * A snapshot is compaction, background work: once the journal reaches `journalBytes` it waits for a
 * pause in writes (`quietMs`), so a burst (a schedule slot inserting 200,000 documents) is not
 * slowed by writing out the whole store; it waits at most `maxWaitMs`, and not at all once the
 * journal has reached `hardJournalBytes`.
 */
export interface SnapshotPolicy {
  journalBytes: number;
  quietMs: number;
  maxWaitMs: number;
  hardJournalBytes: number;
}

const DEFAULT_SNAPSHOT_POLICY: SnapshotPolicy = { journalBytes: 64 * 1024 * 1024, quietMs: 250, maxWaitMs: 30_000, hardJournalBytes: 256 * 1024 * 1024 };

export class Engine {
  readonly dbs = new Map<string, Map<string, Collection>>();
  readonly cursors = new CursorRegistry();
  recovered: RecoveredState['report'] | undefined;
  /** Set while a snapshot is being written; writes go on meanwhile (see snapshot()). */
  private snapshotting: Promise<void> | undefined;

  constructor(
    private readonly persistence: Persistence | null,
    private readonly log: LogFn,
    private readonly policy: SnapshotPolicy = DEFAULT_SNAPSHOT_POLICY,
  ) {}

  collection(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Gets or creates (recording the creation in `ops`) a collection. */
  ensureCollection(db: string, name: string, ops: JournalOp[], options: Document = {}): Collection {
    const existing = this.collection(db, name);
    if (existing) return existing;
    validateName(db, name);
    let colls = this.dbs.get(db);
    if (!colls) this.dbs.set(db, (colls = new Map()));
    const coll = new Collection(db, name, options);
    colls.set(name, coll);
    ops.push({ op: 'createCollection', db, coll: name, options });
    return coll;
  }

  dropCollection(db: string, name: string, ops: JournalOp[]): boolean {
    const colls = this.dbs.get(db);
    if (!colls?.delete(name)) return false;
    if (colls.size === 0) this.dbs.delete(db);
    ops.push({ op: 'dropCollection', db, coll: name });
    return true;
  }

  dropDatabase(db: string, ops: JournalOp[]): void {
    if (this.dbs.delete(db)) ops.push({ op: 'dropDatabase', db });
  }

  /**
   * Runs a write: `apply` mutates memory synchronously and fills `ops`; the ops are journaled before
   * the result is returned. Even when `apply` throws part-way (ordered batches), whatever it applied
   * is journaled first.
   */
  async write<T>(apply: (ops: JournalOp[]) => T): Promise<T> {
    const ops: JournalOp[] = [];
    let result: T;
    try {
      result = apply(ops);
    } finally {
      if (ops.length && this.persistence) {
        const pending = this.persistence.append(ops);
        // The finally block must not swallow apply's error, so journal failures surface via the awaited promise below.
        this.pendingAppend = pending.then(() => this.maybeSnapshot(), () => undefined);
        await pending;
      }
    }
    return result;
  }

  private pendingAppend: Promise<void> | undefined;
  private lastWriteAt = 0;
  /** When the journal first grew past the snapshot size since the last snapshot started. */
  private snapshotDueAt: number | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;

  private maybeSnapshot(): void {
    const now = Date.now();
    this.lastWriteAt = now;
    if (!this.persistence || this.snapshotting) return;
    const bytes = this.persistence.journalBytes();
    if (bytes < this.policy.journalBytes) return;
    this.snapshotDueAt ??= now;
    if (bytes >= this.policy.hardJournalBytes) this.startSnapshot();
    else this.snapshotTimer ??= setTimeout(() => this.snapshotWhenQuiet(), this.policy.quietMs).unref();
  }

  private snapshotWhenQuiet(): void {
    this.snapshotTimer = undefined;
    const now = Date.now();
    const quietFor = now - this.lastWriteAt;
    if (quietFor >= this.policy.quietMs || now - (this.snapshotDueAt ?? now) >= this.policy.maxWaitMs) this.startSnapshot();
    else this.snapshotTimer = setTimeout(() => this.snapshotWhenQuiet(), this.policy.quietMs - quietFor).unref();
  }

  private startSnapshot(): void {
    clearTimeout(this.snapshotTimer);
    this.snapshotTimer = undefined;
    this.snapshotDueAt = undefined;
    void this.snapshot().catch((err: unknown) => this.log('error', 'snapshot failed', { err: String(err) }));
  }

  /**
   * The image is taken synchronously, in the same turn as the persistence's journal cut: every write
   * applied so far is in both, every later one lands in the new journal. Stored documents are never
   * mutated (updates build new ones), so writes need not wait while the image is written out.
   */
  async snapshot(): Promise<void> {
    if (!this.persistence) return;
    while (this.snapshotting) await this.snapshotting;
    const persistence = this.persistence;
    const started = Date.now();
    this.snapshotting = persistence.writeSnapshot(this.images()).finally(() => {
      this.snapshotting = undefined;
    });
    await this.snapshotting;
    this.log('info', 'snapshot written', { ms: Date.now() - started, documents: this.documentCount() });
  }

  private images(): CollectionImage[] {
    const images: CollectionImage[] = [];
    for (const colls of this.dbs.values()) {
      for (const c of colls.values()) {
        images.push({
          db: c.db,
          coll: c.name,
          options: c.options,
          indexes: c.indexes.filter((ix) => ix.name !== '_id_').map((ix) => ix.def),
          docs: Array.from(c.records.values(), (r) => r.bson ?? r.doc),
        });
      }
    }
    return images;
  }

  documentCount(): number {
    let n = 0;
    for (const colls of this.dbs.values()) for (const c of colls.values()) n += c.records.size;
    return n;
  }

  collectionCount(): number {
    let n = 0;
    for (const colls of this.dbs.values()) n += colls.size;
    return n;
  }

  /** Rebuilds memory from the latest snapshot and the journal after it. */
  async recover(): Promise<void> {
    if (!this.persistence) return;
    const state = await this.persistence.recover();
    const scratch: JournalOp[] = [];
    for (const img of state.collections) {
      const coll = this.ensureCollection(img.db, img.coll, scratch, normalize(img.options) as Document);
      // Snapshot and journal bytes were checked before they were written, and the CRC vouches for them since.
      for (const bytes of img.docs) this.replay(() => coll.insertBson(bytes));
      for (const def of img.indexes) this.replay(() => coll.createIndex(normalize(def) as IndexDefinition));
    }
    for (const op of state.ops) this.replay(() => this.applyJournalOp(op, scratch));
    this.recovered = state.report;
    this.log('info', 'recovered', { ...state.report, documents: this.documentCount() });
  }

  private replay(fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      this.log('warn', 'recovery skipped an op that no longer applies', { err: String(err) });
    }
  }

  private applyJournalOp(op: JournalOp, scratch: JournalOp[]): void {
    switch (op.op) {
      case 'put': {
        const coll = this.ensureCollection(op.db, op.coll, scratch);
        if (op.doc instanceof Uint8Array) {
          const cur = coll.getById(readField(op.doc, '_id'));
          if (cur) coll.replace(cur, op.doc);
          else coll.insertBson(op.doc);
          return;
        }
        const doc = normalize(op.doc) as Document;
        const cur = coll.getById(doc._id);
        if (cur) coll.replace(cur, doc);
        else coll.insert(doc);
        return;
      }
      case 'del': {
        const coll = this.collection(op.db, op.coll);
        const cur = coll?.getById(normalize(op.id));
        if (coll && cur) coll.remove(cur);
        return;
      }
      case 'createCollection':
        this.ensureCollection(op.db, op.coll, scratch, normalize(op.options) as Document);
        return;
      case 'dropCollection':
        this.dropCollection(op.db, op.coll, scratch);
        return;
      case 'dropDatabase':
        this.dropDatabase(op.db, scratch);
        return;
      case 'createIndex':
        this.ensureCollection(op.db, op.coll, scratch).createIndex(normalize(op.index) as IndexDefinition);
        return;
      case 'dropIndex':
        this.collection(op.db, op.coll)?.dropIndex(op.name);
        return;
    }
  }

  /** Waits for in-flight appends, writes a final snapshot, closes persistence. */
  async close(): Promise<void> {
    this.cursors.close();
    clearTimeout(this.snapshotTimer);
    if (!this.persistence) return;
    await this.pendingAppend;
    try {
      await this.snapshot();
    } finally {
      await this.persistence.close();
    }
  }
}

function validateName(db: string, coll: string): void {
  if (!db || /[/\\. "$]/.test(db)) throw new MongoServerFault(73, `Invalid database name: '${db}'`);
  if (!coll || coll.includes('$') || coll.startsWith('system.')) throw new MongoServerFault(73, `Invalid collection name: ${coll}`);
}
