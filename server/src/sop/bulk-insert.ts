import type { Collection, Document } from 'mongodb';
import { bulkWriteErrors } from '../store/index.ts';

/**
 * Inserts documents whose unique key may already be taken, unordered, straight through the driver:
 * a plain insert is several times cheaper than an upsert per document, and a duplicate key is
 * simply "that one exists already". Resolves the indexes (in `docs`) of the documents that existed;
 * any other write error is thrown.
 *
 * The caller supplies every field mongoose would have (defaults, timestamps): nothing casts here.
 */
export async function insertAbsent(collection: Pick<Collection, 'insertMany'>, docs: Document[]): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  try {
    await collection.insertMany(docs, { ordered: false });
    return new Set();
  } catch (err) {
    return duplicateKeyIndexes(err);
  }
}

/** The indexes of an unordered bulk write's statements that hit a unique key; any other error is rethrown. */
export function duplicateKeyIndexes(err: unknown): Set<number> {
  const list = bulkWriteErrors(err);
  if (!list || list.some((e) => e.code !== 11000)) throw err;
  return new Set(list.map((e) => e.index));
}
