import type { Stage } from './stages.ts';
import { STAGES } from './stages.ts';

/**
 * The customer filter of contract-14: one object for the customer list's query parameters, segments,
 * bulk tagging and the 群发 audience. Tags are sent by name (the server accepts ids or names), so a
 * saved segment stays readable and survives a tag being re-created in WeCom.
 */
export type CustomerStatus = 'active' | 'lost' | 'all';
export interface CustomerFilter {
  q?: string;
  tags?: string[];
  anyTags?: string[];
  notTags?: string[];
  stages?: Stage[];
  channels?: string[];
  reps?: string[];
  status?: CustomerStatus;
  addedFrom?: string;
  addedTo?: string;
  activeSince?: string;
  inactiveSince?: string;
  minScore?: number;
  maxScore?: number;
  minRisk?: number;
  maxRisk?: number;
  minOrders?: number;
  minSpentFen?: number;
  groups?: string[];
}

/** The list's sorts (contract: `sort` = field, optionally `:asc`/`:desc`, default desc). */
export const SORTS = ['addedAt', 'lastActivityAt', 'score', 'spent'] as const;
export type SortField = (typeof SORTS)[number];
export interface Sort { field: SortField; dir: 'asc' | 'desc' }

/** Filter field ↔ query parameter; the plural ones repeat (`tag=a&tag=b`). */
const LISTS = { tags: 'tag', anyTags: 'anyTag', notTags: 'notTag', stages: 'stage', channels: 'channel', reps: 'rep', groups: 'group' } as const;
const TEXTS = ['q', 'addedFrom', 'addedTo', 'activeSince', 'inactiveSince'] as const;
const NUMBERS = ['minScore', 'maxScore', 'minRisk', 'maxRisk', 'minOrders', 'minSpentFen'] as const;
type ListKey = keyof typeof LISTS;

/**
 * The filter without its empty parts: what is saved in a segment and sent to the server, so that
 * "no stage chosen" means "any stage", and two filters that mean the same compare equal.
 */
export function cleanFilter(filter: CustomerFilter): CustomerFilter {
  const out: CustomerFilter = {};
  for (const key of TEXTS) {
    const value = filter[key]?.trim();
    if (value) out[key] = value;
  }
  for (const key of Object.keys(LISTS) as ListKey[]) {
    const values = [...new Set((filter[key] ?? []).map((v) => v.trim()).filter(Boolean))];
    if (values.length) (out as Record<ListKey, string[]>)[key] = values;
  }
  for (const key of NUMBERS) {
    const value = filter[key];
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  }
  if (filter.status && filter.status !== 'all') out.status = filter.status;
  return out;
}

/** The filter (and sort) as GET /api/admin/contacts query parameters — the one conversion, both ways. */
export function filterToQuery(filter: CustomerFilter, sort?: Sort): URLSearchParams {
  const clean = cleanFilter(filter);
  const query = new URLSearchParams();
  if (clean.q) query.set('q', clean.q);
  for (const [key, param] of Object.entries(LISTS) as Array<[ListKey, string]>) for (const v of clean[key] ?? []) query.append(param, v);
  if (clean.status) query.set('status', clean.status);
  for (const key of [...TEXTS.slice(1), ...NUMBERS]) {
    const value = clean[key];
    if (value !== undefined) query.set(key, String(value));
  }
  if (sort) query.set('sort', `${sort.field}:${sort.dir}`);
  return query;
}

/** Query parameters back into a filter (and sort): unknown or malformed values are dropped, not guessed. */
export function queryToFilter(query: URLSearchParams): { filter: CustomerFilter; sort: Sort | null } {
  const filter: CustomerFilter = {};
  for (const key of TEXTS) {
    const value = query.get(key);
    if (value) filter[key] = value;
  }
  for (const [key, param] of Object.entries(LISTS) as Array<[ListKey, string]>) {
    const values = query.getAll(param).filter(Boolean);
    if (values.length) (filter as Record<ListKey, string[]>)[key] = values;
  }
  if (filter.stages) filter.stages = filter.stages.filter((s): s is Stage => (STAGES as readonly string[]).includes(s));
  for (const key of NUMBERS) {
    const raw = query.get(key);
    const value = raw === null || raw === '' ? NaN : Number(raw);
    if (Number.isFinite(value)) filter[key] = value;
  }
  const status = query.get('status');
  if (status === 'active' || status === 'lost') filter.status = status;
  const [field, dir = 'desc'] = (query.get('sort') ?? '').split(':');
  const sort: Sort | null = (SORTS as readonly string[]).includes(field ?? '') && (dir === 'asc' || dir === 'desc') ? { field: field as SortField, dir } : null;
  return { filter: cleanFilter(filter), sort };
}

/** 元 as typed by the operator → 分 as the API counts money (rounded: 0.1 + 0.2 must not become 30.000000004). */
export const yuanToFen = (yuan: number | null | undefined): number | undefined => (typeof yuan === 'number' && Number.isFinite(yuan) ? Math.round(yuan * 100) : undefined);
export const fenToYuan = (fen: number | undefined): number | undefined => (fen === undefined ? undefined : fen / 100);

/** A local calendar date YYYY-MM-DD, `days` before today: what "7 天未互动" means as `inactiveSince`. */
export function daysAgo(days: number, now = new Date()): string {
  const d = new Date(now.getTime() - days * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** How many conditions the filter has, for the "已选 N 个条件" hint and the empty-filter warning. */
export const conditionCount = (filter: CustomerFilter): number => Object.keys(cleanFilter(filter)).length;
