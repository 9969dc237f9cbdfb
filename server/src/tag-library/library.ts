import mongoose from 'mongoose';
import type { ContactModels, ContactPool, Tag, TagListItem } from '../contacts/index.ts';
import { tagRows, type WecomClient } from '../wecom/index.ts';

/** A refusal of the library itself (before WeCom is asked): the status and the field it is about. */
export class TagLibraryError extends Error {
  constructor(
    readonly status: 404 | 409,
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'TagLibraryError';
  }
}

/** A tag as the library answers a write: the list's row without its customer count. */
export type TagView = Omit<TagListItem, 'customers'>;

export interface TagLibraryDeps {
  contacts: Pick<ContactModels, 'Tag' | 'FollowRelation'>;
  pool: Pick<ContactPool, 'upsertTags' | 'removeTags' | 'removeTagGroup' | 'changeFollowTags'>;
  client: Pick<WecomClient, 'tags'>;
}

/**
 * The corp tag library, written to WeCom first and mirrored once WeCom took it (WeCom is the
 * truth: a write it refuses leaves the mirror as it was). Names are checked against the mirror
 * first so the usual clash gets a clear 409 without a round trip; WeCom's own 40071 covers a
 * mirror that is behind.
 */
export class TagLibrary {
  constructor(private readonly deps: TagLibraryDeps) {}

  async create(input: { groupId?: string | undefined; groupName?: string | undefined; name: string; order?: number | undefined }): Promise<TagView> {
    const { Tag } = this.deps.contacts;
    const group = input.groupId ? await this.requireGroup(input.groupId) : await Tag.findOne({ groupName: input.groupName }).lean();
    if (group && (await Tag.exists({ groupId: group.groupId, name: input.name }))) {
      throw new TagLibraryError(409, 'name', `a tag "${input.name}" already exists in group "${group.groupName}"`);
    }
    const created = await this.deps.client.tags.add({
      ...(group ? { group_id: group.groupId } : { group_name: input.groupName! }),
      tag: [{ name: input.name, ...(input.order === undefined ? {} : { order: input.order }) }],
    });
    const rows = tagRows([created]);
    await this.deps.pool.upsertTags(rows);
    const tag = rows.find((r) => r.name === input.name);
    if (!tag) throw new Error(`WeCom add_corp_tag answered without the tag "${input.name}"`);
    return view(tag);
  }

  async editTag(tagId: string, change: { name?: string | undefined; order?: number | undefined }): Promise<TagView> {
    const { Tag } = this.deps.contacts;
    const tag = await this.requireTag(tagId);
    if (change.name !== undefined && (await Tag.exists({ groupId: tag.groupId, name: change.name, tagId: mongoose.trusted({ $ne: tagId }) }))) {
      throw new TagLibraryError(409, 'name', `a tag "${change.name}" already exists in group "${tag.groupName}"`);
    }
    await this.deps.client.tags.edit({ id: tagId, ...defined(change) });
    const after = await Tag.findOneAndUpdate({ tagId }, { $set: defined(change) }, { returnDocument: 'after' }).lean();
    return view(after ?? { ...tag, ...defined(change) });
  }

  async editGroup(groupId: string, change: { name?: string | undefined; order?: number | undefined }): Promise<{ groupId: string; groupName: string; groupOrder: number }> {
    const { Tag } = this.deps.contacts;
    const group = await this.requireGroup(groupId);
    if (change.name !== undefined && (await Tag.exists({ groupName: change.name, groupId: mongoose.trusted({ $ne: groupId }) }))) {
      throw new TagLibraryError(409, 'name', `a tag group "${change.name}" already exists`);
    }
    await this.deps.client.tags.edit({ id: groupId, ...defined(change) });
    const mirrored = { ...(change.name === undefined ? {} : { groupName: change.name }), ...(change.order === undefined ? {} : { groupOrder: change.order }) };
    await Tag.updateMany({ groupId }, { $set: mirrored });
    return { groupId, groupName: change.name ?? group.groupName, groupOrder: change.order ?? group.groupOrder ?? 0 };
  }

  /** Deletes the tag in WeCom and here, also from every customer carrying it. */
  async deleteTag(tagId: string): Promise<void> {
    await this.requireTag(tagId);
    await this.deps.client.tags.del({ tag_id: [tagId] });
    await this.deps.pool.removeTags([tagId]);
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.requireGroup(groupId);
    await this.deps.client.tags.del({ group_id: [groupId] });
    await this.deps.pool.removeTagGroup(groupId);
  }

  /** Tags one customer through one rep's relation (what the customer page edits): WeCom first, then the mirror. */
  async tagCustomer(input: { externalUserId: string; userId: string; add: string[]; remove: string[]; at: Date }): Promise<string[]> {
    const { externalUserId, userId, add, remove } = input;
    if (!(await this.deps.contacts.FollowRelation.exists({ externalUserId, userId }))) {
      throw new TagLibraryError(404, 'userId', `${userId} is not a rep of customer ${externalUserId}`);
    }
    for (const tagId of [...add, ...remove]) await this.requireTag(tagId);
    await this.deps.client.tags.mark({ userid: userId, external_userid: externalUserId, add_tag: add, remove_tag: remove });
    const key = `admin-tags:${externalUserId}:${userId}:${input.at.getTime()}`;
    await this.deps.pool.changeFollowTags({ externalUserId, userId, add, remove, at: input.at, key });
    const relation = await this.deps.contacts.FollowRelation.findOne({ externalUserId, userId }, { tagIds: 1 }).lean();
    return relation?.tagIds ?? [];
  }

  private async requireTag(tagId: string) {
    const tag = await this.deps.contacts.Tag.findOne({ tagId }).lean();
    if (!tag) throw new TagLibraryError(404, 'tagId', `no tag ${tagId} (run npm run sync if it is new in WeCom)`);
    return tag;
  }

  /** A group exists in the mirror while it has a tag (WeCom drops a group with its last tag). */
  private async requireGroup(groupId: string) {
    const tag = await this.deps.contacts.Tag.findOne({ groupId }).lean();
    if (!tag) throw new TagLibraryError(404, 'groupId', `no tag group ${groupId}`);
    return tag;
  }
}

function view(tag: Pick<Tag, 'tagId' | 'name' | 'groupId' | 'groupName' | 'order'> & { groupOrder?: number | null | undefined }): TagView {
  return { tagId: tag.tagId, name: tag.name, groupId: tag.groupId, groupName: tag.groupName, order: tag.order ?? 0, groupOrder: tag.groupOrder ?? 0 };
}

/** The fields actually given: WeCom and the mirror leave the others as they are. */
function defined(change: { name?: string | undefined; order?: number | undefined }): { name?: string; order?: number } {
  return { ...(change.name === undefined ? {} : { name: change.name }), ...(change.order === undefined ? {} : { order: change.order }) };
}
