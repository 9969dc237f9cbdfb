import type { ContactModels } from './models.ts';

/** A corp tag as the console's library and pickers show it. */
export interface TagListItem {
  tagId: string;
  name: string;
  groupId: string;
  groupName: string;
  order: number;
  groupOrder: number;
  /** Customers with an active relation carrying the tag (one customer counts once, however many reps tagged them). */
  customers: number;
}

/** The tag library with each tag's customer count. */
export async function listTagsWithCounts(models: Pick<ContactModels, 'Tag' | 'FollowRelation'>): Promise<TagListItem[]> {
  const [tags, counts] = await Promise.all([
    models.Tag.find({}, { _id: 0, tagId: 1, name: 1, groupId: 1, groupName: 1, order: 1, groupOrder: 1 }).sort({ groupName: 1, order: 1, name: 1 }).lean(),
    models.FollowRelation.aggregate<{ _id: string; customers: number }>([
      { $match: { status: 'active' } },
      { $unwind: '$tagIds' },
      // Twice grouped: first one row per (tag, customer), so a customer tagged by two reps counts once.
      { $group: { _id: { tagId: '$tagIds', externalUserId: '$externalUserId' } } },
      { $group: { _id: '$_id.tagId', customers: { $sum: 1 } } },
    ]),
  ]);
  const byTag = new Map(counts.map((c) => [c._id, c.customers]));
  return tags.map((t) => ({
    tagId: t.tagId,
    name: t.name,
    groupId: t.groupId,
    groupName: t.groupName,
    order: t.order ?? 0,
    groupOrder: t.groupOrder ?? 0,
    customers: byTag.get(t.tagId) ?? 0,
  }));
}
