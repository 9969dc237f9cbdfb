import mongoose from 'mongoose';
import { z } from 'zod';
import type { ContactModels } from '../contacts/index.ts';
import type { CustomerModels, CustomerRow } from './models.ts';

/** Sort names of the API → the numeric, never-null index field each sorts by. */
const SORT_KEYS = { addedAt: 'addedKey', lastActivityAt: 'activityKey', score: 'score', spent: 'spentFen' } as const;
type SortName = keyof typeof SORT_KEYS;

export const pagingSchema = z.object({
  sort: z
    .string()
    .regex(/^(addedAt|lastActivityAt|score|spent)(:(asc|desc))?$/, 'expected addedAt, lastActivityAt, score or spent, optionally :asc or :desc')
    .default('addedAt:desc'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(400).optional(),
});

export interface Sort {
  name: SortName;
  field: (typeof SORT_KEYS)[SortName];
  dir: 1 | -1;
}

export function parseSort(sort: string): Sort {
  const [name, dir] = sort.split(':') as [SortName, string | undefined];
  return { name, field: SORT_KEYS[name], dir: dir === 'asc' ? 1 : -1 };
}

/** A position in one sort order: the sort value and the id of the last row seen. */
interface Position {
  s: string;
  v: number;
  id: string;
}

export class BadCursor extends Error {}

export const encodeCursor = (sort: Sort, row: CustomerRow) =>
  Buffer.from(JSON.stringify({ s: `${sort.name}:${sort.dir}`, v: row[sort.field], id: row.externalUserId } satisfies Position)).toString('base64url');

export function decodeCursor(cursor: string, sort: Sort): Position {
  let position: Partial<Position> | null = null;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Position>;
  } catch {
    // refused below
  }
  if (!position || typeof position.v !== 'number' || typeof position.id !== 'string' || typeof position.s !== 'string') throw new BadCursor('not a cursor this list gave (start again without it)');
  if (position.s !== `${sort.name}:${sort.dir}`) throw new BadCursor('the cursor belongs to another sort order (start again without it)');
  return position as Position;
}

/**
 * The keyset clauses after a position, ties broken by externalUserId. The plain bound on the sort
 * field lets the store walk the (field, externalUserId) index from the position instead of sorting
 * every match; the first page gets an always-true bound for the same reason.
 */
export function afterClauses(sort: Sort, position: Position | null): Array<Record<string, unknown>> {
  const beyond = sort.dir === 1 ? '$gt' : '$lt';
  const upTo = sort.dir === 1 ? '$gte' : '$lte';
  if (!position) return [{ [sort.field]: mongoose.trusted({ [sort.dir === 1 ? '$gte' : '$lte']: sort.dir === 1 ? -Number.MAX_VALUE : Number.MAX_VALUE }) }];
  return [
    { [sort.field]: mongoose.trusted({ [upTo]: position.v }) },
    { $or: [{ [sort.field]: mongoose.trusted({ [beyond]: position.v }) }, { [sort.field]: position.v, externalUserId: mongoose.trusted({ [beyond]: position.id }) }] },
  ];
}

export const sortSpec = (sort: Sort) => ({ [sort.field]: sort.dir, externalUserId: sort.dir });

export const andOf = (clauses: Array<Record<string, unknown>>) => (clauses.length ? { $and: clauses } : {});

/** Rows of one page (limit + 1 read, to know whether more follow). */
export async function pageRows(models: CustomerModels, clauses: Array<Record<string, unknown>>, sort: Sort, position: Position | null, limit: number) {
  const rows = await models.CustomerIndex.find(andOf([...clauses, ...afterClauses(sort, position)]), { _id: 0 })
    .sort(sortSpec(sort))
    .limit(limit + 1)
    .lean<CustomerRow[]>();
  const page = rows.slice(0, limit);
  return { page, nextCursor: rows.length > limit && page.length > 0 ? encodeCursor(sort, page.at(-1)!) : null };
}

/** Tag names for rows' tag ids, one read per page. */
export async function tagNamer(contacts: ContactModels, rows: CustomerRow[]) {
  const ids = [...new Set(rows.flatMap((r) => r.tagIds))];
  const tags = ids.length ? await contacts.Tag.find({ tagId: mongoose.trusted({ $in: ids }) }, { _id: 0, tagId: 1, name: 1 }).lean() : [];
  const names = new Map(tags.map((t) => [t.tagId, t.name]));
  return (tagIds: string[]) => tagIds.map((tagId) => ({ tagId, name: names.get(tagId) ?? tagId }));
}

/** A list item of the contract. */
export function itemOf(row: CustomerRow, tags: (tagIds: string[]) => Array<{ tagId: string; name: string }>) {
  return {
    externalUserId: row.externalUserId,
    name: row.name,
    avatar: row.avatar,
    corpName: row.corpName,
    reps: row.repsAll.map((r) => ({ userId: r.userId, status: r.status, remark: r.remark })),
    tags: tags(row.tagIds),
    stage: row.stage,
    score: row.score,
    channel: row.channel,
    orders: row.orders,
    spentFen: row.spentFen,
    lastActivityAt: row.lastActivityAt,
    addedAt: row.addedAt,
    status: row.status,
  };
}
export type CustomerItem = ReturnType<typeof itemOf>;
