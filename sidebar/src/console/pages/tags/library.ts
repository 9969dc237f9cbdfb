import type { TagOption } from '../../../shared/customers.ts';

/** A tag group of the library, as GET /api/admin/tags lists its tags (flat, each with its group). */
export interface LibraryGroup { key: string; groupId: string | null; name: string; order: number; tags: TagOption[] }
export type LibraryTag = TagOption & { groupOrder?: number };

/** Groups in their order, tags in theirs (ascending `order`, as the server sorts them; ties by name). */
export function groupLibrary(tags: LibraryTag[]): LibraryGroup[] {
  const groups = new Map<string, LibraryGroup>();
  tags.forEach((tag, i) => {
    const key = tag.groupId ?? tag.groupName;
    const group = groups.get(key) ?? { key, groupId: tag.groupId ?? null, name: tag.groupName, order: tag.groupOrder ?? i, tags: [] };
    group.tags.push(tag);
    groups.set(key, group);
  });
  const byOrder = (a: { order?: number; name: string }, b: { order?: number; name: string }) => (a.order ?? 0) - (b.order ?? 0) || a.name.localeCompare(b.name, 'zh-CN');
  return [...groups.values()].sort(byOrder).map((g) => ({ ...g, tags: [...g.tags].sort(byOrder) }));
}

/** The `order` values after moving item `index` one place up (-1) or down (+1): every item gets its new position. */
export function moved<T>(items: T[], index: number, step: -1 | 1): T[] | null {
  const to = index + step;
  if (to < 0 || to >= items.length) return null;
  const next = [...items];
  [next[index], next[to]] = [next[to]!, next[index]!];
  return next;
}
