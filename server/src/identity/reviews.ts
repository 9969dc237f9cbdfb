import mongoose from 'mongoose';
import type { ContactModels } from '../contacts/index.ts';
import type { OrderModel } from '../orders/index.ts';
import type { IdentityModels } from './models.ts';

/** The two externalUserIds in one order: the same pair found from either side is one review. */
export const pairKeyOf = (a: string, b: string) => [a, b].sort().join('\u0000');

/** Puts a pair up for review once; a pair already decided (merged, kept apart) stays decided. */
export async function openReview(identity: Pick<IdentityModels, 'Review'>, contactIds: [string, string], reason: string): Promise<void> {
  if (contactIds[0] === contactIds[1]) return;
  await identity.Review.updateOne(
    { pairKey: pairKeyOf(...contactIds) },
    { $setOnInsert: { contactIds, reason, status: 'open' } },
    { upsert: true },
  );
}

/** A contact as the review page shows it, side by side with its probable twin. */
export interface ContactCard {
  externalUserId: string;
  name: string;
  avatar: string;
  company: string;
  title: string;
  phones: string[];
  email: string;
  unionId: string | null;
  origin: string;
  sources: Array<{ source: string; at: Date }>;
  relations: Array<{ userId: string; status: string }>;
  tagCount: number;
  orderCount: number;
}

/** Cards of these contacts, in three reads whatever their number; absent contacts are absent from the map. */
export async function contactCards(stores: { contacts: Pick<ContactModels, 'Contact' | 'FollowRelation'>; orders: OrderModel }, externalUserIds: string[]): Promise<Map<string, ContactCard>> {
  const idsIn = mongoose.trusted({ $in: externalUserIds });
  const [contacts, relations, orderCounts] = await Promise.all([
    stores.contacts.Contact.find({ externalUserId: idsIn }).lean(),
    stores.contacts.FollowRelation.find({ externalUserId: idsIn }, { externalUserId: 1, userId: 1, status: 1, tagIds: 1 }).lean(),
    stores.orders.aggregate<{ _id: string; n: number }>([{ $match: { externalUserId: idsIn } }, { $group: { _id: '$externalUserId', n: { $sum: 1 } } }]),
  ]);
  const orders = new Map(orderCounts.map((o) => [o._id, o.n]));
  const cards = new Map<string, ContactCard>();
  for (const c of contacts) {
    const own = relations.filter((r) => r.externalUserId === c.externalUserId);
    const tags = new Set([...own.flatMap((r) => r.tagIds), ...(c.botTags ?? [])]);
    const firstSeen = new Map<string, Date>();
    for (const s of c.identitySources ?? []) {
      const seen = firstSeen.get(s.source);
      if (!seen || s.at < seen) firstSeen.set(s.source, s.at);
    }
    cards.set(c.externalUserId, {
      externalUserId: c.externalUserId,
      name: c.name ?? '',
      avatar: c.avatar ?? '',
      company: c.company || c.corpName || '',
      title: c.title || c.position || '',
      phones: c.phones ?? [],
      email: c.email ?? '',
      unionId: c.unionId ?? null,
      origin: c.origin ?? 'wecom',
      sources: [...firstSeen].map(([source, at]) => ({ source, at })),
      relations: own.map((r) => ({ userId: r.userId, status: r.status ?? 'active' })),
      tagCount: tags.size,
      orderCount: orders.get(c.externalUserId) ?? 0,
    });
  }
  return cards;
}
