import { SimError } from '../errors.ts';

/**
 * Offset paging behind an opaque-looking cursor, as WeCom's list APIs do. An empty cursor
 * starts at the beginning; next_cursor is empty on the last page.
 */
export function page<T>(items: T[], cursor: string | undefined, limit: number): { items: T[]; next_cursor: string } {
  const offset = cursor ? decodeCursor(cursor) : 0;
  const slice = items.slice(offset, offset + limit);
  const next = offset + limit;
  return { items: slice, next_cursor: next < items.length ? Buffer.from(`o:${next}`).toString('base64url') : '' };
}

function decodeCursor(cursor: string): number {
  const match = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match?.[1]) throw new SimError(40058, 'invalid cursor');
  return Number(match[1]);
}

export function checkLimit(limit: number, max: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new SimError(40058, `limit must be 1..${max}`);
  return limit;
}
