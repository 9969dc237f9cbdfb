import mongoose, { type Types } from 'mongoose';
import type { ContactModels, IdentityFacts } from '../contacts/index.ts';
import type { OrderModel } from '../orders/index.ts';
import type { SopModels } from '../sop/index.ts';
import { importLead, type LeadInput, type LeadOutcome } from './leads.ts';
import { matchContact, type Candidate, type Match } from './matcher.ts';
import { IdentityError, mergeContacts, undoMerge, type IdentityErrorCode, type MergeStores } from './merge.ts';
import type { IdentityModels } from './models.ts';
import { contactCards, openReview, type ContactCard } from './reviews.ts';

export interface IdentityDeps {
  contacts: Pick<ContactModels, 'Contact' | 'FollowRelation' | 'TimelineEvent'>;
  orders: OrderModel;
  sop: Pick<SopModels, 'Enrollment' | 'Job' | 'Send'>;
  models: IdentityModels;
  now?: () => Date;
}

export type ReviewStatus = 'open' | 'merged' | 'kept_apart';

export interface ReviewItem {
  id: string;
  reason: string;
  status: ReviewStatus;
  contacts: [ContactCard, ContactCard];
}

/** ONE_ID: who a record is (matcher), leads, the review of probable pairs, and merges with their undo. */
export class Identity {
  private readonly stores: MergeStores;
  private readonly now: () => Date;

  constructor(private readonly deps: IdentityDeps) {
    this.stores = { contacts: deps.contacts, orders: deps.orders, sop: deps.sop, identity: deps.models };
    this.now = deps.now ?? (() => new Date());
  }

  async init(): Promise<void> {
    await Promise.all(Object.values(this.deps.models).map((m) => m.init()));
  }

  match(candidate: Candidate, exclude?: string): Promise<Match> {
    return matchContact(this.deps.contacts, candidate, exclude);
  }

  importLead(lead: LeadInput): Promise<LeadOutcome> {
    return importLead({ contacts: this.deps.contacts, identity: this.deps.models }, lead);
  }

  /** Reviews with both contacts still there (a contact merged away by another decision leaves its reviews out). */
  async listReviews(query: { status: ReviewStatus; limit: number; offset: number }): Promise<{ items: ReviewItem[]; total: number }> {
    const { Review } = this.deps.models;
    const [reviews, total] = await Promise.all([
      Review.find({ status: query.status }).sort({ createdAt: 1, _id: 1 }).skip(query.offset).limit(query.limit).lean(),
      Review.countDocuments({ status: query.status }),
    ]);
    const cards = await contactCards(this.stores, [...new Set(reviews.flatMap((r) => r.contactIds))]);
    const items: ReviewItem[] = [];
    for (const r of reviews) {
      const a = cards.get(r.contactIds[0]!);
      const b = cards.get(r.contactIds[1]!);
      if (a && b) items.push({ id: String(r._id), reason: r.reason, status: r.status as ReviewStatus, contacts: [a, b] });
    }
    return { items, total };
  }

  /** Merges an open review's pair into `survivor` (one of the two). */
  async mergeReview(reviewId: string, survivor: string): Promise<{ id: string; survivor: string; merged: string }> {
    const review = await this.requireOpenReview(reviewId);
    if (!review.contactIds.includes(survivor)) throw new IdentityError(400, 'invalid_survivor', `survivor: must be one of the review's contacts (${review.contactIds.join(', ')})`);
    const merged = review.contactIds.find((id) => id !== survivor)!;
    const claimed = await this.deps.models.Review.updateOne({ _id: review._id, status: 'open' }, { $set: { status: 'merged', decidedAt: this.now() } });
    if (claimed.modifiedCount === 0) throw new IdentityError(409, 'not_open', `review ${reviewId} was decided meanwhile`);
    try {
      return await mergeContacts(this.stores, { survivorId: survivor, mergedId: merged, reason: review.reason, auto: false, reviewId: review._id, at: this.now() });
    } catch (err) {
      await this.deps.models.Review.updateOne({ _id: review._id }, { $set: { status: 'open', decidedAt: null } });
      throw err;
    }
  }

  async keepApart(reviewId: string): Promise<void> {
    const review = await this.requireOpenReview(reviewId);
    const claimed = await this.deps.models.Review.updateOne({ _id: review._id, status: 'open' }, { $set: { status: 'kept_apart', decidedAt: this.now() } });
    if (claimed.modifiedCount === 0) throw new IdentityError(409, 'not_open', `review ${reviewId} was decided meanwhile`);
  }

  /** Decides many reviews; a bulk merge keeps the contact a rep has a WeCom relation with, else the older one. */
  async bulk(ids: string[], action: 'merge' | 'keep_apart'): Promise<{ done: number; failed: Array<{ id: string; reason: IdentityErrorCode; message: string }> }> {
    let done = 0;
    const failed: Array<{ id: string; reason: IdentityErrorCode; message: string }> = [];
    for (const id of ids) {
      try {
        if (action === 'keep_apart') await this.keepApart(id);
        else await this.mergeReview(id, await this.bulkSurvivor(id));
        done++;
      } catch (err) {
        if (!(err instanceof IdentityError)) throw err;
        failed.push({ id, reason: err.code, message: err.message });
      }
    }
    return { done, failed };
  }

  async listMerges(query: { limit: number; offset: number }) {
    const merges = await this.deps.models.Merge.find({}, { survivor: 1, merged: 1, survivorName: 1, mergedName: 1, reason: 1, auto: 1, mergedAt: 1, undoneAt: 1 })
      .sort({ mergedAt: -1, _id: -1 })
      .skip(query.offset)
      .limit(query.limit)
      .lean();
    return {
      items: merges.map((m) => ({
        id: String(m._id),
        survivor: { externalUserId: m.survivor, name: m.survivorName ?? '' },
        merged: { externalUserId: m.merged, name: m.mergedName ?? '' },
        reason: m.reason,
        auto: m.auto ?? false,
        mergedAt: m.mergedAt,
        undoneAt: m.undoneAt ?? null,
      })),
    };
  }

  /**
   * A WeCom contact that just arrived or brought new facts: a lead's or the bot's contact-to-be with
   * the same unionid or phone is this person and is merged into it; anything weaker, or another
   * WeCom contact (WeCom keeps both ids, so only an operator can say they are one), is listed for review.
   */
  async reconcile(externalUserId: string, facts: IdentityFacts): Promise<void> {
    const match = await this.match(facts, externalUserId);
    if (match.verdict === 'new') return;
    if (match.verdict === 'same' && match.contact.origin !== 'wecom') {
      await this.merge({ survivorId: externalUserId, mergedId: match.contact.externalUserId, reason: match.reason, auto: true });
    } else await openReview(this.deps.models, [match.contact.externalUserId, externalUserId], match.reason);
  }

  /** Merges without a review: for callers that know two contacts are one person (the matcher said 'same'). */
  merge(input: { survivorId: string; mergedId: string; reason: string; auto: boolean }) {
    return mergeContacts(this.stores, { ...input, at: this.now() });
  }

  undo(mergeId: string): Promise<void> {
    return undoMerge(this.stores, mergeId, this.now());
  }

  private async requireOpenReview(reviewId: string): Promise<{ _id: Types.ObjectId; contactIds: string[]; reason: string }> {
    if (!mongoose.isValidObjectId(reviewId)) throw new IdentityError(404, 'not_found', `no review ${reviewId}`);
    const review = await this.deps.models.Review.findById(reviewId).lean();
    if (!review) throw new IdentityError(404, 'not_found', `no review ${reviewId}`);
    if (review.status !== 'open') throw new IdentityError(409, 'not_open', `review ${reviewId} is already ${review.status}`);
    return review;
  }

  private async bulkSurvivor(reviewId: string): Promise<string> {
    const review = await this.requireOpenReview(reviewId);
    const contacts = await this.deps.contacts.Contact.find({ externalUserId: mongoose.trusted({ $in: review.contactIds }) }, { externalUserId: 1, createdAt: 1, enteredAt: 1 }).lean();
    if (contacts.length < 2) throw new IdentityError(409, 'contact_gone', `review ${reviewId}: one of its contacts no longer exists`);
    const withRelation = new Set(await this.deps.contacts.FollowRelation.distinct('externalUserId', { externalUserId: mongoose.trusted({ $in: review.contactIds }) }));
    const time = (d: Date | null | undefined) => d?.getTime() ?? Number.MAX_SAFE_INTEGER;
    contacts.sort(
      (x, y) =>
        Number(withRelation.has(y.externalUserId)) - Number(withRelation.has(x.externalUserId)) ||
        time(x.enteredAt) - time(y.enteredAt) ||
        time(x.createdAt) - time(y.createdAt),
    );
    return contacts[0]!.externalUserId;
  }
}
