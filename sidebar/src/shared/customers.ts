import { ref } from 'vue';
import { api, ApiError } from './api.ts';
import { filterToQuery, type CustomerFilter, type Sort } from './filter.ts';
import type { Stage } from './stages.ts';

/** The shapes of contract-14's customer API as the console reads them (kept by hand: no server imports). */
export interface CustomerRow {
  externalUserId: string;
  name: string;
  avatar?: string;
  corpName?: string;
  reps: Array<{ userId: string; status: string; remark?: string }>;
  tags: Array<{ tagId: string; name: string }>;
  stage: Stage | null;
  score: number | null;
  /** Churn risk (server churn/ module); null until scored. */
  risk?: { score: number; reasons: Array<{ code: string; label: { zh: string; en: string }; points: number }> } | null;
  channel: string | null;
  orders: number;
  spentFen: number;
  lastActivityAt: string | null;
  addedAt: string | null;
  status: string;
}
export interface CustomerPage { total: number; items: CustomerRow[]; nextCursor: string | null }

export interface Segment { id: string; name: string; filter: CustomerFilter; count: number; createdAt?: string; updatedAt?: string }

/** `customers`: how many customers carry the tag (server/src/contacts/tag-list.ts). */
export interface TagOption { tagId: string; name: string; groupName: string; groupId?: string; order?: number; customers?: number }
export interface ChannelOption { state: string; name: string }
export interface GroupOption { chatId: string; name: string; owner: string; members: number; joinedThisWeek: number; leftThisWeek: number; plans: Array<{ id: string; name: string }> }

export function listCustomers(filter: CustomerFilter, sort: Sort, cursor: string | null, limit = 50): Promise<CustomerPage> {
  const query = filterToQuery(filter, sort);
  query.set('limit', String(limit));
  if (cursor) query.set('cursor', cursor);
  return api<CustomerPage>(`/api/admin/contacts?${query}`);
}

export const countFilter = (filter: CustomerFilter) => api<{ count: number }>('/api/admin/segments/count', { method: 'POST', body: { filter } });

/**
 * What the filter pickers offer: the corp tags, channels and customer groups. Read once per page load
 * and shared by every filter bar; `reload` after the tag library changed. A missing route (a server
 * without groups yet) leaves that list empty instead of breaking the whole bar.
 */
export const filterOptions = {
  tags: ref<TagOption[]>([]),
  channels: ref<ChannelOption[]>([]),
  groups: ref<GroupOption[]>([]),
  error: ref<string | null>(null),
};
let loading: Promise<void> | null = null;

export function loadFilterOptions(force = false): Promise<void> {
  if (loading && !force) return loading;
  const soft = async <T>(path: string, pick: (body: T) => void) => {
    try {
      pick(await api<T>(path));
    } catch (err) {
      filterOptions.error.value = err instanceof ApiError ? `${path}: ${err.status} ${err.message}` : (err as Error).message;
    }
  };
  filterOptions.error.value = null;
  loading = Promise.all([
    soft<{ tags: TagOption[] }>('/api/admin/tags', (b) => (filterOptions.tags.value = b.tags)),
    soft<{ channels: ChannelOption[] }>('/api/admin/channels', (b) => (filterOptions.channels.value = b.channels)),
    soft<{ items: GroupOption[] }>('/api/admin/groups', (b) => (filterOptions.groups.value = b.items)),
  ]).then(() => undefined);
  return loading;
}

/** Tags grouped as the library shows them (group name → tags in their order). */
export function tagGroups(tags: TagOption[]): Array<{ name: string; tags: TagOption[] }> {
  const groups = new Map<string, TagOption[]>();
  for (const tag of tags) groups.set(tag.groupName, [...(groups.get(tag.groupName) ?? []), tag]);
  return [...groups].map(([name, list]) => ({ name, tags: list }));
}
