import mongoose, { type Types } from 'mongoose';
import type { Contact, ContactModels } from '../contacts/index.ts';
import type { OrderModel } from '../orders/index.ts';
import type { SopModels } from '../sop/index.ts';
import { nameCompanyKey } from './key.ts';
import type { IdentityModels } from './models.ts';
import { pairKeyOf } from './reviews.ts';

export interface MergeStores {
  contacts: Pick<ContactModels, 'Contact' | 'FollowRelation' | 'TimelineEvent'>;
  orders: OrderModel;
  sop: Pick<SopModels, 'Enrollment' | 'Job' | 'Send'>;
  identity: IdentityModels;
}

/** A merge or undo that cannot happen as asked; `status` is the HTTP answer (404 unknown, 409 conflicting state). */
/** Codes the console words for the operator (sidebar/src/console/pages/identity/identity.ts). */
export type IdentityErrorCode = 'not_found' | 'not_open' | 'contact_gone' | 'already_undone' | 'merged_back' | 'survivor_gone' | 'invalid_survivor';

export class IdentityError extends Error {
  constructor(readonly status: 400 | 404 | 409, readonly code: IdentityErrorCode, message: string) {
    super(message);
  }
}

type StoredContact = Contact & { _id: Types.ObjectId };
const $in = (values: Types.ObjectId[]) => mongoose.trusted({ $in: values });
const ids = (rows: Array<{ _id: Types.ObjectId }>) => rows.map((r) => r._id);
const union = <T>(a: readonly T[], b: readonly T[]) => [...new Set([...a, ...b])];

/** Lead and bot-only contacts have ids of ours; anything else is WeCom's external_userid. */
const isWecomId = (externalUserId: string) => !/^(lead|bot):/.test(externalUserId);

/** Fields the survivor keeps when it has them and takes from the merged contact when it does not. */
const FILL_FIELDS = ['unionId', 'name', 'avatar', 'corpName', 'corpFullName', 'position', 'company', 'title', 'email', 'botContactId'] as const;

/**
 * Merges contact `mergedId` into `survivorId`: the merged contact's relations, orders, timeline,
 * SOP enrolments, jobs and sends become the survivor's (a relation with a rep the survivor also
 * has joins its tags instead; an enrolment in a journey occurrence the survivor already runs is
 * exited), identity values are joined with their provenance, and the merged contact is removed.
 * The merge document is written before anything moves, so even a merge cut short can be undone.
 */
export async function mergeContacts(
  stores: MergeStores,
  input: { survivorId: string; mergedId: string; reason: string; auto: boolean; reviewId?: Types.ObjectId | null; at: Date },
): Promise<{ id: string; survivor: string; merged: string }> {
  const { Contact, FollowRelation, TimelineEvent } = stores.contacts;
  const { Enrollment, Job, Send } = stores.sop;
  if (input.survivorId === input.mergedId) throw new IdentityError(400, 'invalid_survivor', 'a contact cannot be merged into itself');
  const [a, b] = await Promise.all([
    Contact.findOne({ externalUserId: input.survivorId }).lean<StoredContact>(),
    Contact.findOne({ externalUserId: input.mergedId }).lean<StoredContact>(),
  ]);
  if (!a) throw new IdentityError(404, 'contact_gone', `no contact ${input.survivorId}`);
  if (!b) throw new IdentityError(404, 'contact_gone', `no contact ${input.mergedId}`);
  if (!isWecomId(a.externalUserId) && isWecomId(b.externalUserId)) {
    throw new IdentityError(400, 'invalid_survivor', `survivor: ${a.externalUserId} is not a WeCom contact; keep ${b.externalUserId} (WeCom knows a customer only by its external_userid)`);
  }

  const [aRelations, bRelations, orders, timeline, aEnrollments, bEnrollments, leads] = await Promise.all([
    FollowRelation.find({ externalUserId: a.externalUserId }, { _id: 1, userId: 1, tagIds: 1 }).lean(),
    FollowRelation.find({ externalUserId: b.externalUserId }).lean(),
    stores.orders.find({ externalUserId: b.externalUserId }, { _id: 1 }).lean(),
    TimelineEvent.find({ externalUserId: b.externalUserId }, { _id: 1 }).lean(),
    Enrollment.find({ targetKind: 'contact', targetId: a.externalUserId }, { planId: 1, occurrence: 1 }).lean(),
    Enrollment.find({ targetKind: 'contact', targetId: b.externalUserId }, { _id: 1, planId: 1, occurrence: 1, status: 1, exitReason: 1 }).lean(),
    stores.identity.Lead.find({ externalUserId: b.externalUserId }, { _id: 1 }).lean(),
  ]);
  const aByRep = new Map(aRelations.map((r) => [r.userId, r]));
  const shared = bRelations.filter((r) => aByRep.has(r.userId));
  const movedRelations = bRelations.filter((r) => !aByRep.has(r.userId));
  const running = new Set(aEnrollments.map((e) => `${String(e.planId)}:${e.occurrence}`));
  const duplicateEnrollments = bEnrollments.filter((e) => running.has(`${String(e.planId)}:${e.occurrence}`));
  const movedEnrollments = bEnrollments.filter((e) => !running.has(`${String(e.planId)}:${e.occurrence}`));
  const [jobs, sends] = await Promise.all([
    Job.find({ targetId: b.externalUserId, enrollmentId: $in(ids(movedEnrollments)) }, { _id: 1 }).lean(),
    Send.find({ targetId: b.externalUserId }, { _id: 1 }).lean(),
  ]);
  const retagged = shared.map((r) => aByRep.get(r.userId)!);
  const otherReviews = await stores.identity.Review.find({
    contactIds: b.externalUserId,
    status: 'open',
    ...(input.reviewId ? { _id: mongoose.trusted({ $ne: input.reviewId }) } : {}),
  }).lean();

  const merge = await stores.identity.Merge.create({
    survivor: a.externalUserId,
    merged: b.externalUserId,
    survivorName: a.name ?? '',
    mergedName: b.name ?? '',
    reason: input.reason,
    auto: input.auto,
    reviewId: input.reviewId ?? null,
    mergedAt: input.at,
    survivorBefore: a,
    mergedContact: b,
    moved: {
      followRelations: ids(movedRelations),
      orders: ids(orders),
      timeline: ids(timeline),
      enrollments: ids(movedEnrollments),
      jobs: ids(jobs),
      sends: ids(sends),
      leads: ids(leads),
    },
    removedRelations: shared,
    retagged: retagged.map((r) => ({ id: r._id, tagIds: r.tagIds })),
    exitedEnrollments: duplicateEnrollments.map((e) => ({ id: e._id, status: e.status, exitReason: e.exitReason ?? null })),
    reviewsBefore: otherReviews,
  });

  const to = a.externalUserId;
  await FollowRelation.updateMany({ _id: $in(ids(movedRelations)) }, { $set: { externalUserId: to } });
  for (const relation of shared) {
    await FollowRelation.updateOne({ _id: aByRep.get(relation.userId)!._id }, { $addToSet: { tagIds: { $each: relation.tagIds } } });
  }
  await FollowRelation.deleteMany({ _id: $in(ids(shared)) });
  await stores.orders.updateMany({ _id: $in(ids(orders)) }, { $set: { externalUserId: to } });
  await TimelineEvent.updateMany({ _id: $in(ids(timeline)) }, { $set: { externalUserId: to } });
  await Enrollment.updateMany({ _id: $in(ids(movedEnrollments)) }, { $set: { targetId: to } });
  await Enrollment.updateMany({ _id: $in(ids(duplicateEnrollments)) }, { $set: { status: 'exited', exitReason: `merged into ${to}` } });
  await Job.updateMany({ _id: $in(ids(jobs)) }, { $set: { targetId: to } });
  await Send.updateMany({ _id: $in(ids(sends)) }, { $set: { targetId: to } });
  await stores.identity.Lead.updateMany({ _id: $in(ids(leads)) }, { $set: { externalUserId: to } });

  await repointReviews(stores.identity, otherReviews, b.externalUserId, to, input.at);
  await Contact.updateOne({ externalUserId: to }, { $set: joinedIdentity(a, b) });
  await Contact.deleteOne({ externalUserId: b.externalUserId });
  return { id: String(merge._id), survivor: a.externalUserId, merged: b.externalUserId };
}

/**
 * Other open reviews of the merged contact are now about the survivor: a pair of the two is
 * settled by this merge, a pair with a third contact is re-pointed (or dropped when the survivor
 * already has a review with that contact), so the review list never shows a contact that is gone.
 */
async function repointReviews(identity: IdentityModels, reviews: Array<{ _id: Types.ObjectId; contactIds: string[] }>, from: string, to: string, at: Date): Promise<void> {
  for (const review of reviews) {
    const other = review.contactIds.find((id) => id !== from)!;
    if (other === to) {
      await identity.Review.updateOne({ _id: review._id }, { $set: { status: 'merged', decidedAt: at } });
    } else if (await identity.Review.exists({ pairKey: pairKeyOf(to, other) })) {
      await identity.Review.deleteOne({ _id: review._id });
    } else {
      await identity.Review.updateOne({ _id: review._id }, { $set: { contactIds: [to, other], pairKey: pairKeyOf(to, other) } });
    }
  }
}

/** The survivor's contact fields after the merge: its own values first, the merged contact's where it had none. */
function joinedIdentity(a: StoredContact, b: StoredContact): Partial<Contact> {
  const set: Record<string, unknown> = {};
  for (const field of FILL_FIELDS) {
    if (!a[field] && b[field]) set[field] = b[field];
  }
  const phones = union(a.phones ?? [], b.phones ?? []);
  set.phones = phones;
  set.phone = a.phone ?? b.phone ?? phones[0] ?? null;
  set.botTags = union(a.botTags ?? [], b.botTags ?? []);
  const seen = new Set((a.identitySources ?? []).map((s) => `${s.field}\u0000${s.value}\u0000${s.source}`));
  set.identitySources = [...(a.identitySources ?? []), ...(b.identitySources ?? []).filter((s) => !seen.has(`${s.field}\u0000${s.value}\u0000${s.source}`))];
  const entered = [a.enteredAt, b.enteredAt].filter((d): d is Date => d instanceof Date);
  if (entered.length > 0) set.enteredAt = new Date(Math.min(...entered.map((d) => d.getTime())));
  const active = [a.lastActivityAt, b.lastActivityAt].filter((d): d is Date => d instanceof Date);
  if (active.length > 0) set.lastActivityAt = new Date(Math.max(...active.map((d) => d.getTime())));
  const name = (set.name as string | undefined) ?? a.name;
  const company = (set.company as string | undefined) || a.company || a.corpName || b.corpName;
  set.nameCompanyKey = nameCompanyKey(name, company);
  return set as Partial<Contact>;
}

/**
 * Undoes a merge: both contacts come back exactly as they were before it, and every row it moved
 * or set aside goes back to the merged contact. Later changes to the survivor's own fields are
 * lost with it (the survivor is restored as a whole), which is what "as they were" means.
 */
export async function undoMerge(stores: MergeStores, mergeId: string, at: Date): Promise<void> {
  const { Contact, FollowRelation, TimelineEvent } = stores.contacts;
  const { Enrollment, Job, Send } = stores.sop;
  if (!mongoose.isValidObjectId(mergeId)) throw new IdentityError(404, 'not_found', `no merge ${mergeId}`);
  const merge = await stores.identity.Merge.findById(mergeId).lean();
  if (!merge) throw new IdentityError(404, 'not_found', `no merge ${mergeId}`);
  if (merge.undoneAt) throw new IdentityError(409, 'already_undone', `merge ${mergeId} was already undone at ${merge.undoneAt.toISOString()}`);
  if (await Contact.exists({ externalUserId: merge.merged })) throw new IdentityError(409, 'merged_back', `contact ${merge.merged} exists again; undo would duplicate it`);
  if (!(await Contact.exists({ externalUserId: merge.survivor }))) {
    throw new IdentityError(409, 'survivor_gone', `contact ${merge.survivor} is gone (merged again?); undo that merge first`);
  }
  // Claimed first, so two undos at once cannot both restore.
  const claimed = await stores.identity.Merge.updateOne({ _id: merge._id, undoneAt: null }, { $set: { undoneAt: at } });
  if (claimed.modifiedCount === 0) throw new IdentityError(409, 'already_undone', `merge ${mergeId} was already undone`);

  const back = merge.merged;
  const moved = merge.moved ?? { followRelations: [], orders: [], timeline: [], enrollments: [], jobs: [], sends: [], leads: [] };
  await Contact.collection.replaceOne({ externalUserId: merge.survivor }, merge.survivorBefore as Record<string, unknown>);
  await Contact.collection.insertOne(merge.mergedContact as Record<string, unknown>);
  await FollowRelation.updateMany({ _id: $in(moved.followRelations) }, { $set: { externalUserId: back } });
  for (const r of merge.retagged) await FollowRelation.updateOne({ _id: r.id }, { $set: { tagIds: r.tagIds } });
  if (merge.removedRelations.length > 0) await FollowRelation.collection.insertMany(merge.removedRelations as Array<Record<string, unknown>>);
  await stores.orders.updateMany({ _id: $in(moved.orders) }, { $set: { externalUserId: back } });
  await TimelineEvent.updateMany({ _id: $in(moved.timeline) }, { $set: { externalUserId: back } });
  await Enrollment.updateMany({ _id: $in(moved.enrollments) }, { $set: { targetId: back } });
  for (const e of merge.exitedEnrollments) await Enrollment.updateOne({ _id: e.id }, { $set: { status: e.status, exitReason: e.exitReason ?? null } });
  await Job.updateMany({ _id: $in(moved.jobs) }, { $set: { targetId: back } });
  await Send.updateMany({ _id: $in(moved.sends) }, { $set: { targetId: back } });
  await stores.identity.Lead.updateMany({ _id: $in(moved.leads) }, { $set: { externalUserId: back } });
  if (merge.reviewId) await stores.identity.Review.updateOne({ _id: merge.reviewId }, { $set: { status: 'open', decidedAt: null } });
  for (const review of merge.reviewsBefore as Array<{ _id: Types.ObjectId }>) {
    await stores.identity.Review.collection.replaceOne({ _id: review._id }, review, { upsert: true });
  }
}
