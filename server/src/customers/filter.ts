import { DateTime } from 'luxon';
import mongoose from 'mongoose';
import { z } from 'zod';
import type { ContactModels } from '../contacts/index.ts';
import { STAGES } from '../sop/index.ts';

const text = z.string().trim().min(1).max(100);
const list = (item: z.ZodType<string>) => z.array(item).max(200).optional();
/** ISO date-time, or YYYY-MM-DD meaning that day in the configured time zone. */
const day = z.string().trim().refine((v) => DateTime.fromISO(v, { setZone: true }).isValid, 'expected an ISO date (YYYY-MM-DD) or date-time');
const count = z.coerce.number().int().min(0).max(1e12);

/** The one customer filter of issue 14: list query, segments, bulk tagging and 群发 all speak it. */
export const customerFilterSchema = z
  .object({
    q: z.string().trim().max(100).optional(),
    tags: list(text),
    anyTags: list(text),
    notTags: list(text),
    stages: z.array(z.enum(STAGES)).max(STAGES.length).optional(),
    channels: list(z.string().min(1).max(30)),
    reps: list(z.string().min(1).max(64)),
    status: z.enum(['active', 'lost', 'all']).optional(),
    addedFrom: day.optional(),
    addedTo: day.optional(),
    activeSince: day.optional(),
    inactiveSince: day.optional(),
    minScore: z.coerce.number().min(0).max(100).optional(),
    maxScore: z.coerce.number().min(0).max(100).optional(),
    /** Churn risk (churn/ module, 0–100), as opposed to the lead score above. */
    minRisk: z.coerce.number().min(0).max(100).optional(),
    maxRisk: z.coerce.number().min(0).max(100).optional(),
    minOrders: count.optional(),
    minSpentFen: count.optional(),
    groups: list(z.string().min(1).max(100)),
  })
  .strict();
export type CustomerFilter = z.infer<typeof customerFilterSchema>;

/** Query parameter → filter field: the plural ones may repeat (`tag=a&tag=b`). */
const PLURAL_PARAMS = { tag: 'tags', anyTag: 'anyTags', notTag: 'notTags', stage: 'stages', channel: 'channels', rep: 'reps', group: 'groups' } as const;
const SINGLE_PARAMS = ['q', 'status', 'addedFrom', 'addedTo', 'activeSince', 'inactiveSince', 'minScore', 'maxScore', 'minRisk', 'maxRisk', 'minOrders', 'minSpentFen'] as const;
/** Parameters the list reads itself, not part of the filter. */
const PAGING_PARAMS = new Set(['sort', 'limit', 'cursor']);

/** The filter a query string describes; an unknown parameter is a 400 naming it (a typo must not widen the list). */
export function filterFromQuery(query: Record<string, string | string[] | undefined>): CustomerFilter {
  const raw: Record<string, unknown> = {};
  for (const [param, value] of Object.entries(query)) {
    if (value === undefined || PAGING_PARAMS.has(param)) continue;
    const values = Array.isArray(value) ? value : [value];
    if (param in PLURAL_PARAMS) raw[PLURAL_PARAMS[param as keyof typeof PLURAL_PARAMS]] = values;
    else if ((SINGLE_PARAMS as readonly string[]).includes(param)) raw[param] = values.at(-1);
    else raw[param] = value; // refused by the strict schema, under its own name
  }
  return customerFilterSchema.parse(raw);
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Start of a bound: YYYY-MM-DD is that day's start in the time zone; `end` of a bare day is the next day's start. */
function instant(value: string, timeZone: string, end: boolean): Date {
  const bareDay = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const at = DateTime.fromISO(value, { zone: timeZone });
  return (bareDay && end ? at.plus({ days: 1 }) : at).toJSDate();
}

/** Tag ids for each given tag (by id or by name; a name may exist in several groups). */
async function resolveTags(contacts: ContactModels, values: string[]): Promise<Map<string, string[]>> {
  if (values.length === 0) return new Map();
  const tags = await contacts.Tag.find({ $or: [{ tagId: mongoose.trusted({ $in: values }) }, { name: mongoose.trusted({ $in: values }) }] }, { _id: 0, tagId: 1, name: 1 }).lean();
  return new Map(values.map((v) => [v, tags.filter((t) => t.tagId === v || t.name === v).map((t) => t.tagId)]));
}

/** Churn scores live in their own collection (churn/ module, injected by main.ts), not in the index. */
export interface ChurnSource {
  idsInRange(range: { min?: number; max?: number }): Promise<string[]>;
  scoresOf(ids: string[]): Promise<Map<string, { score: number; reasons: Array<{ code: string; label: { zh: string; en: string }; points: number }> }>>;
}

const NOTHING = { externalUserId: mongoose.trusted({ $in: [] }) };

/**
 * The customer_index query for a filter, as `$and` clauses (the store's planner bounds an index
 * from them; the caller adds its keyset clause the same way). User text only reaches a regex escaped.
 */
export async function compileFilter(filter: CustomerFilter, deps: { contacts: ContactModels; timeZone: string; churn?: ChurnSource | undefined }): Promise<Array<Record<string, unknown>>> {
  const and: Array<Record<string, unknown>> = [];
  const tz = deps.timeZone;
  const ids = await resolveTags(deps.contacts, [...(filter.tags ?? []), ...(filter.anyTags ?? []), ...(filter.notTags ?? [])]);
  const idsOf = (values: string[]) => [...new Set(values.flatMap((v) => ids.get(v) ?? []))];

  if (filter.q) {
    const pattern = new RegExp(escapeRegExp(filter.q), 'i');
    and.push({ $or: ['name', 'remarks', 'phone', 'corpName'].map((field) => ({ [field]: mongoose.trusted({ $regex: pattern }) })) });
  }
  for (const tag of filter.tags ?? []) {
    const tagIds = ids.get(tag) ?? [];
    and.push(tagIds.length ? { tagIds: mongoose.trusted({ $in: tagIds }) } : NOTHING);
  }
  if (filter.anyTags?.length) and.push({ tagIds: mongoose.trusted({ $in: idsOf(filter.anyTags) }) });
  if (filter.notTags?.length) and.push({ tagIds: mongoose.trusted({ $nin: idsOf(filter.notTags) }) });
  if (filter.stages?.length) and.push({ stage: mongoose.trusted({ $in: filter.stages }) });
  if (filter.channels?.length) and.push({ channel: mongoose.trusted({ $in: filter.channels }) });
  if (filter.reps?.length) and.push({ repIds: mongoose.trusted({ $in: filter.reps }) });
  if (filter.groups?.length) and.push({ groups: mongoose.trusted({ $in: filter.groups }) });
  if (filter.status && filter.status !== 'all') and.push({ status: filter.status });
  if (filter.addedFrom) and.push({ addedKey: mongoose.trusted({ $gte: instant(filter.addedFrom, tz, false).getTime() }) });
  if (filter.addedTo) and.push({ addedKey: mongoose.trusted({ $lt: instant(filter.addedTo, tz, true).getTime(), $gt: 0 }) });
  if (filter.activeSince) and.push({ activityKey: mongoose.trusted({ $gte: instant(filter.activeSince, tz, false).getTime() }) });
  // Never active counts as inactive since any date (its key is 0).
  if (filter.inactiveSince) and.push({ activityKey: mongoose.trusted({ $lt: instant(filter.inactiveSince, tz, false).getTime() }) });
  if (filter.minScore !== undefined) and.push({ score: mongoose.trusted({ $gte: filter.minScore }) });
  if (filter.maxScore !== undefined) and.push({ score: mongoose.trusted({ $lte: filter.maxScore }) });
  if (filter.minRisk !== undefined || filter.maxRisk !== undefined) {
    // Without the churn module nobody has a risk score, so a risk bound matches nobody.
    const ids = deps.churn ? await deps.churn.idsInRange({ ...(filter.minRisk !== undefined ? { min: filter.minRisk } : {}), ...(filter.maxRisk !== undefined ? { max: filter.maxRisk } : {}) }) : [];
    and.push({ externalUserId: mongoose.trusted({ $in: ids }) });
  }
  if (filter.minOrders !== undefined && filter.minOrders > 0) and.push({ orders: mongoose.trusted({ $gte: filter.minOrders }) });
  if (filter.minSpentFen !== undefined && filter.minSpentFen > 0) and.push({ spentFen: mongoose.trusted({ $gte: filter.minSpentFen }) });
  return and;
}
