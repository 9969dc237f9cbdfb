import type { Model, UpdateQuery } from 'mongoose';

type Filter = Record<string, unknown>;
type BulkOp<T> = Parameters<Model<T>['bulkWrite']>[0][number];
interface Queued<T> {
  op: BulkOp<T>;
  resolve(matched: boolean | null): void;
  reject(err: unknown): void;
}

/** The writes one bulkWrite carries at most (one command stays far below 16 MiB). */
const MAX_BATCH = 500;

/**
 * Group commit for single-document updates (a send's ledger state, an enrolment's next step, a
 * job's outcome): while one bulkWrite is in flight the next updates queue and go together as the
 * following one. Idle, an update goes at once, alone; on a campaign day a hundred sends finishing
 * together cost a few round trips instead of a hundred. Each caller's promise settles with its own
 * update: rejected with that update's own error, or resolved once the store took it with whether it
 * matched a document — known when its batch was one update, or when every update of the batch
 * matched (or none did); null when only some of the batch matched (a bulk write counts, it does not
 * say which). Through the model, so casting and timestamps are those of Model.updateOne.
 */
export class UpdateBatches<T> {
  private queue: Array<Queued<T>> = [];
  private flushing = false;

  constructor(private readonly model: Model<T>) {}

  updateOne(filter: Filter, update: UpdateQuery<T>, options: { upsert?: boolean } = {}): Promise<boolean | null> {
    return new Promise<boolean | null>((resolve, reject) => {
      const op = { updateOne: { filter, update, ...(options.upsert ? { upsert: true } : {}) } } as BulkOp<T>;
      this.queue.push({ op, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          // Ordered false: each update stands alone, as separate updateOne calls would.
          const result = await this.model.bulkWrite(batch.map((q) => q.op), { ordered: false });
          // An upsert that inserted counts as matched: it applied, as updateOne's upsertedCount says.
          const applied = result.matchedCount + result.upsertedCount;
          const matched = applied === batch.length ? true : applied === 0 ? false : null;
          batch.forEach((q) => q.resolve(matched));
        } catch (err) {
          const failed = writeErrorsByIndex(err);
          batch.forEach((q, i) => (failed ? (failed.has(i) ? q.reject(failed.get(i)) : q.resolve(null)) : q.reject(err)));
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

/** A bulk write's per-update errors by position, or null when the whole command failed. */
function writeErrorsByIndex(err: unknown): Map<number, Error> | null {
  const writeErrors = (err as { writeErrors?: unknown }).writeErrors;
  if (!Array.isArray(writeErrors) || writeErrors.length === 0) return null;
  return new Map(
    writeErrors.map((e: { index: number; errmsg?: string; code?: number }) => [e.index, Object.assign(new Error(e.errmsg ?? 'write failed'), { code: e.code })]),
  );
}
