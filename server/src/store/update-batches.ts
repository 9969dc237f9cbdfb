import type { Model, UpdateQuery } from 'mongoose';
import { bulkWriteErrors, GroupCommit, type Settled } from './group-commit.ts';

type Filter = Record<string, unknown>;
type BulkOp<T> = Parameters<Model<T>['bulkWrite']>[0][number];

/** The writes one bulkWrite carries at most (one command stays far below 16 MiB). */
const MAX_BATCH = 500;

/**
 * Single-document updates by group commit (a send's ledger state, an enrolment's next step, a
 * job's outcome): on a campaign day a hundred sends finishing together cost a few round trips
 * instead of a hundred. Each caller's promise settles with its own update: rejected with that
 * update's own error, or resolved with whether it matched a document — known when its batch was
 * one update, or when every update of the batch matched (or none did); null when only some of the
 * batch matched (a bulk write counts, it does not say which). Through the model, so casting and
 * timestamps are those of Model.updateOne.
 */
export class UpdateBatches<T> {
  private readonly commits: GroupCommit<BulkOp<T>, boolean | null>;

  constructor(model: Model<T>) {
    this.commits = new GroupCommit(async (ops) => {
      try {
        // Ordered false: each update stands alone, as separate updateOne calls would.
        const result = await model.bulkWrite(ops, { ordered: false });
        // An upsert that inserted counts as matched: it applied, as updateOne's upsertedCount says.
        const applied = result.matchedCount + result.upsertedCount;
        const matched = applied === ops.length ? true : applied === 0 ? false : null;
        return ops.map(() => ({ ok: true, value: matched }));
      } catch (err) {
        const failed = bulkWriteErrors(err);
        if (!failed) throw err;
        const byIndex = new Map(failed.map((e) => [e.index, Object.assign(new Error(e.errmsg ?? 'write failed'), { code: e.code })]));
        return ops.map((_, i): Settled<boolean | null> => (byIndex.has(i) ? { ok: false, error: byIndex.get(i) } : { ok: true, value: null }));
      }
    }, { maxBatch: MAX_BATCH });
  }

  updateOne(filter: Filter, update: UpdateQuery<T>, options: { upsert?: boolean } = {}): Promise<boolean | null> {
    return this.commits.submit({ updateOne: { filter, update, ...(options.upsert ? { upsert: true } : {}) } } as BulkOp<T>);
  }
}
