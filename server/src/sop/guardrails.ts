import mongoose, { type Model } from 'mongoose';
import type { ContactModels } from '../contacts/index.ts';
import { tagIdsByName } from './conditions.ts';
import type { SendRecord } from './models.ts';

/**
 * The marketing guardrails every sender shares (SOP steps, one-off mass sends): the opt-out tag and
 * the per-contact daily cap, counted in one ledger (sop_sends), so a customer reached by a plan and
 * by a 群发 on the same day is capped across both.
 */

/** Of these contacts, the ones carrying the opt-out tag on any relation. */
export async function optedOutAmong(contacts: ContactModels, optOutTag: string, externalUserIds: string[]): Promise<Set<string>> {
  if (externalUserIds.length === 0) return new Set();
  const optOutId = (await tagIdsByName(contacts, [optOutTag])).get(optOutTag);
  if (optOutId === undefined) return new Set();
  const tagged = await contacts.FollowRelation.distinct('externalUserId', {
    externalUserId: mongoose.trusted({ $in: externalUserIds }),
    tagIds: optOutId,
  });
  return new Set(tagged.map(String));
}

/** How many cap slots each contact has used on this local day (only contacts with at least one appear). */
export async function capSlotsUsed(Send: Model<SendRecord>, externalUserIds: string[], day: string): Promise<Map<string, number>> {
  if (externalUserIds.length === 0) return new Map();
  const used = await Send.aggregate<{ _id: string; n: number }>([
    { $match: { targetId: mongoose.trusted({ $in: externalUserIds }), day, capSlot: mongoose.trusted({ $type: 'string' }) } },
    { $group: { _id: '$targetId', n: { $sum: 1 } } },
  ]);
  return new Map(used.map((u) => [u._id, u.n]));
}

export type LedgerEntry = Pick<SendRecord, 'key' | 'targetId' | 'day' | 'channel' | 'marketing' | 'text' | 'at' | 'sender'>;

/**
 * `recorded`: the send is in the ledger (state sending) and may go out. `duplicate`: this key was
 * recorded before (a resumed or repeated send). `capped`: a marketing send found every slot of the
 * contact's day taken. Each slot is a unique key, so two instances can never both use the last one.
 */
export async function recordSend(Send: Model<SendRecord>, entry: LedgerEntry, capPerDay: number): Promise<'recorded' | 'duplicate' | 'capped'> {
  // Every send of a campaign day writes here, so through the driver: the document is complete as
  // built (the schema's defaults and timestamps spelled out), without mongoose's per-document work.
  const now = new Date();
  const base = { ...entry, text: entry.text ?? '', sender: entry.sender ?? null, state: 'sending', msgid: null, delivery: null, deliveredAt: null, checkedAt: null, createdAt: now, updatedAt: now };
  const slots = entry.marketing ? capPerDay : 1;
  for (let slot = 0; slot < slots; slot++) {
    try {
      await Send.collection.insertOne(entry.marketing ? { ...base, capSlot: `${entry.targetId}:${entry.day}:${slot}` } : { ...base });
      return 'recorded';
    } catch (err) {
      if (isDuplicateOn(err, 'key')) return 'duplicate';
      if (!isDuplicateOn(err, 'capSlot')) throw err;
    }
  }
  return 'capped';
}

const isDuplicateOn = (err: unknown, field: string) =>
  (err as { code?: number }).code === 11000 && field in ((err as { keyPattern?: object }).keyPattern ?? {});
