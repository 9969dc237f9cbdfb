/** What a batch write says of each of its items, in order. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Pending<I, R> {
  item: I;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/**
 * Group commit: items submitted while one batch write is in flight go together as the next, so
 * under load the store is paid per batch, and an item alone still waits one round trip. Each
 * submitter's promise settles with what the write said of its own item.
 */
export class GroupCommit<I, R> {
  private queue: Array<Pending<I, R>> = [];
  private writing = false;

  constructor(
    private readonly write: (items: I[]) => Promise<Array<Settled<R>>>,
    private readonly opts: {
      maxBatch: number;
      /** Let the items already submitted in this turn of the event loop join the first batch. */
      gatherFirst?: boolean;
    },
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      if (this.opts.gatherFirst) await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.opts.maxBatch);
        let settled: Array<Settled<R>>;
        try {
          settled = await this.write(batch.map((p) => p.item));
        } catch (err) {
          settled = batch.map(() => ({ ok: false, error: err }));
        }
        batch.forEach((p, i) => {
          const s = settled[i]!;
          if (s.ok) p.resolve(s.value);
          else p.reject(s.error);
        });
      }
    } finally {
      this.writing = false;
    }
  }
}

/**
 * The per-statement errors of an unordered bulk write (insertMany, bulkWrite), or null when the
 * error is not one (the whole command failed). The driver gives one error as an object, several as a list.
 */
export function bulkWriteErrors(err: unknown): Array<{ index: number; code?: number; errmsg?: string }> | null {
  const errors = (err as { writeErrors?: unknown }).writeErrors;
  if (errors === undefined || errors === null) return null;
  const list = [errors].flat() as Array<{ index: number; code?: number; errmsg?: string }>;
  return list.length === 0 ? null : list;
}
