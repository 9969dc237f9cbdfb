import mongoose from 'mongoose';
import type { ContactModels } from './models.ts';

type RepStores = Pick<ContactModels, 'Rep' | 'FollowRelation'>;

/**
 * Which of these rep ids the pool knows: the directory WeCom gave (a sync), placeholders an
 * operator allowed, and any rep WeCom itself reported a relation of (stores older than the roster).
 */
export async function knownReps(stores: RepStores, userIds: string[]): Promise<Set<string>> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return new Set();
  const among = mongoose.trusted({ $in: ids });
  const [listed, relating] = await Promise.all([
    stores.Rep.distinct('userId', { userId: among }),
    stores.FollowRelation.distinct('userId', { userId: among, origin: mongoose.trusted({ $ne: 'import' }) }),
  ]);
  return new Set<string>([...listed, ...relating]);
}

/** WeCom's reps (get_follow_user_list): known for good, a placeholder among them now confirmed. */
export async function recordWecomReps(stores: Pick<ContactModels, 'Rep'>, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await stores.Rep.bulkWrite(
    userIds.map((userId) => ({ updateOne: { filter: { userId }, update: { $set: { placeholder: false } }, upsert: true } })),
    { ordered: false },
  );
}

/** Reps an operator let an import name before WeCom has: placeholders until a sync lists them. */
export async function addPlaceholderReps(stores: Pick<ContactModels, 'Rep'>, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await stores.Rep.bulkWrite(
    userIds.map((userId) => ({ updateOne: { filter: { userId }, update: { $setOnInsert: { placeholder: true } }, upsert: true } })),
    { ordered: false },
  );
}
