/**
 * Contract between the embedded store's engine (collections, indexes, commands) and its
 * persistence layer (journal + snapshots). The engine applies a write in memory, hands the
 * resulting after-images to `append`, and acknowledges the client only once `append` resolves.
 */
import type { Document } from 'bson';

/** Index definition as the engine keeps it (the shape `createIndexes` receives, normalised). */
export interface IndexDefinition {
  name: string;
  key: Document;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
}

/**
 * One logical change. `put` carries the whole document after the write (never a diff), so replay is
 * idempotent; as a Uint8Array it is that document's exact BSON (straight off the wire, or read back
 * by recovery), journaled and returned as is.
 */
export type JournalOp =
  | { op: 'put'; db: string; coll: string; doc: Document | Uint8Array }
  | { op: 'del'; db: string; coll: string; id: unknown }
  | { op: 'createCollection'; db: string; coll: string; options: Document }
  | { op: 'dropCollection'; db: string; coll: string }
  | { op: 'dropDatabase'; db: string }
  | { op: 'createIndex'; db: string; coll: string; index: IndexDefinition }
  | { op: 'dropIndex'; db: string; coll: string; name: string };

export interface CollectionImage {
  db: string;
  coll: string;
  options: Document;
  indexes: IndexDefinition[];
  /** Streamed so a snapshot of a large collection never needs one giant buffer; BSON is written as is. */
  docs: Iterable<Document | Uint8Array>;
}

export interface RecoveredState {
  /** Collections from the latest complete snapshot (each document as its BSON), empty when none. */
  collections: Array<Omit<CollectionImage, 'docs'> & { docs: Uint8Array[] }>;
  /** Journal ops written after that snapshot, in order; a torn or corrupt tail is dropped. */
  ops: JournalOp[];
  /** What recovery did, for logs and /healthz: e.g. bytes of torn tail dropped. */
  report: { snapshotDocs: number; journalOps: number; droppedTailBytes: number };
}

export type FsyncPolicy = 'always' | 'batch' | 'never';

export interface Persistence {
  /** Reads snapshot + journal. Must be called once before append/writeSnapshot. */
  recover(): Promise<RecoveredState>;
  /** Appends one batch as one checksummed record; resolves once durable per the fsync policy. */
  append(batch: JournalOp[]): Promise<void>;
  /** Bytes in the journal since the last snapshot (the engine decides when to snapshot). */
  journalBytes(): number;
  /** Writes a full snapshot atomically (temp file + fsync + rename), then starts a new empty journal. */
  writeSnapshot(collections: Iterable<CollectionImage>): Promise<void>;
  close(): Promise<void>;
}

export interface PersistenceOptions {
  dir: string;
  fsync: FsyncPolicy;
}
