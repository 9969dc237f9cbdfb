/** Server-side cursors: int64 ids, batches capped by size, idle expiry. */
import { Long, calculateObjectSize } from 'bson';
import type { Document } from 'bson';
import { randomBytes } from 'node:crypto';
import { MongoServerFault } from './errors.ts';

const IDLE_MS = 10 * 60 * 1000;
/** Leaves headroom under the 16 MiB reply document limit for the envelope. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
const DEFAULT_FIRST_BATCH = 101;

/** A reply document: decoded, or a stored document's exact BSON (spliced into the reply as is). */
export type ReplyDoc = Document | Uint8Array;

interface OpenCursor {
  ns: string;
  docs: ReplyDoc[];
  pos: number;
  lastUsed: number;
}

export class CursorRegistry {
  private readonly open = new Map<string, OpenCursor>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.open.size;
  }

  /** Takes the first batch; registers the rest under a new id (0 when nothing is left). */
  start(ns: string, docs: ReplyDoc[], batchSize: number | undefined, single: boolean): { id: Long; batch: ReplyDoc[] } {
    const cur: OpenCursor = { ns, docs, pos: 0, lastUsed: Date.now() };
    const batch = takeBatch(cur, batchSize || DEFAULT_FIRST_BATCH);
    if (cur.pos >= docs.length || single) return { id: Long.ZERO, batch };
    const id = Long.fromBigInt(randomBytes(8).readBigInt64LE() & 0x7fffffffffffffffn);
    this.open.set(id.toString(), cur);
    return { id, batch };
  }

  next(id: Long, ns: string, batchSize: number | undefined): { id: Long; batch: ReplyDoc[] } {
    const key = id.toString();
    const cur = this.open.get(key);
    if (!cur || cur.ns !== ns) throw new MongoServerFault(43, `cursor id ${key} not found`);
    const batch = takeBatch(cur, batchSize && batchSize > 0 ? batchSize : Infinity);
    cur.lastUsed = Date.now();
    const exhausted = cur.pos >= cur.docs.length;
    if (exhausted) this.open.delete(key);
    return { id: exhausted ? Long.ZERO : id, batch };
  }

  kill(ids: unknown[]): { killed: Long[]; notFound: Long[] } {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const raw of ids) {
      const id = Long.fromValue(raw as Long);
      (this.open.delete(id.toString()) ? killed : notFound).push(id);
    }
    return { killed, notFound };
  }

  close(): void {
    clearInterval(this.sweeper);
    this.open.clear();
  }

  private sweep(): void {
    const cutoff = Date.now() - IDLE_MS;
    for (const [k, c] of this.open) if (c.lastUsed < cutoff) this.open.delete(k);
  }
}

/** Documents up to `max`, stopping before the one that would take the batch past the reply limit. */
function takeBatch(cur: OpenCursor, max: number): ReplyDoc[] {
  const end = Math.min(cur.docs.length, cur.pos + max);
  const start = cur.pos;
  // A batch of one (findOne's) goes out whatever its size, so it is never measured.
  if (end - start === 1) cur.pos = end;
  let bytes = 0;
  while (cur.pos < end) {
    const doc = cur.docs[cur.pos] as ReplyDoc;
    const size = doc instanceof Uint8Array ? doc.length : calculateObjectSize(doc);
    if (cur.pos > start && bytes + size > MAX_BATCH_BYTES) break;
    bytes += size;
    cur.pos++;
  }
  return cur.docs.slice(start, cur.pos);
}
