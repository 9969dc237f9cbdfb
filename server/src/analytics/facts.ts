import mongoose from 'mongoose';
import type { ContactModels } from '../contacts/index.ts';
import type { OrderModel } from '../orders/index.ts';

/**
 * The per-contact facts every metric is computed from, read the same way whether the contact came
 * from WeCom callbacks, a sync, the bot or an import:
 *
 * - A contact's facts are those of its FIRST follow relation (earliest `enteredAt`, else `addedAt`):
 *   the rep relation through which it entered the private domain. Later relations with other reps
 *   do not make it enter again.
 * - `entered_at` = that relation's `enteredAt` (first add or half-add: add_half_external_contact
 *   and add_external_contact both set it; an import sets it from `entered_at`).
 * - `added_at` = its `addedAt` (the confirmed add; null while only half-added).
 * - `removed_at` = its `removedAt` only when its status is `lost` (del_follow_user, the customer
 *   deleted the rep); a rep deleting the customer or a transfer is not a customer leaving.
 * - `state` = its channel `state`: the contact belongs to that channel's scope.
 *
 * Times are epoch milliseconds (NaN/null when absent) so the metrics loop does no Date work.
 */
export interface ContactFacts {
  ids: string[];
  index: Map<string, number>;
  state: Array<string | null>;
  enteredAt: Float64Array;
  addedAt: Float64Array;
  removedAt: Float64Array;
}

/** Orders as parallel arrays; `contact` is the index into ContactFacts (contacts without a relation are appended). */
export interface OrderFacts {
  contact: Int32Array;
  amountFen: Float64Array;
  paidAt: Float64Array;
}

interface RelationRow {
  externalUserId: string;
  state?: string | null;
  status?: string;
  enteredAt?: Date | null;
  addedAt?: Date | null;
  removedAt?: Date | null;
}

const BATCH_SIZE = 10_000;

export async function loadContactFacts(models: Pick<ContactModels, 'FollowRelation'>): Promise<ContactFacts> {
  // The driver cursor, not mongoose documents: 100,000 rows of five fields need no casting or hydration.
  const rows = await models.FollowRelation.collection
    .find<RelationRow>({}, { projection: { _id: 0, externalUserId: 1, state: 1, status: 1, enteredAt: 1, addedAt: 1, removedAt: 1 }, batchSize: BATCH_SIZE })
    .toArray();
  const first = new Map<string, { row: RelationRow; since: number }>();
  for (const row of rows) {
    const since = (row.enteredAt ?? row.addedAt)?.getTime();
    if (since === undefined) continue;
    const seen = first.get(row.externalUserId);
    if (!seen || since < seen.since) first.set(row.externalUserId, { row, since });
  }
  const facts = emptyFacts(first.size);
  let i = 0;
  for (const [id, { row, since }] of first) {
    facts.ids.push(id);
    facts.index.set(id, i);
    facts.state.push(row.state ?? null);
    facts.enteredAt[i] = since;
    facts.addedAt[i] = row.addedAt ? row.addedAt.getTime() : NaN;
    facts.removedAt[i] = row.status === 'lost' && row.removedAt ? row.removedAt.getTime() : NaN;
    i++;
  }
  return facts;
}

/** Orders paid before `before` (the last moment any metric of the period looks at). */
export async function loadOrderFacts(orders: OrderModel, facts: ContactFacts, before: Date): Promise<{ orders: OrderFacts; facts: ContactFacts }> {
  const rows = await orders.collection
    .find<{ externalUserId: string; amountFen: number; paidAt: Date }>(
      { paidAt: mongoose.trusted({ $lt: before }) },
      { projection: { _id: 0, externalUserId: 1, amountFen: 1, paidAt: 1 }, batchSize: BATCH_SIZE },
    )
    .toArray();
  const extra: string[] = [];
  const result: OrderFacts = { contact: new Int32Array(rows.length), amountFen: new Float64Array(rows.length), paidAt: new Float64Array(rows.length) };
  rows.forEach((row, i) => {
    let index = facts.index.get(row.externalUserId);
    if (index === undefined) {
      // A buyer with no rep relation (e.g. known only to the bot): counted in revenue, never in a cohort.
      index = facts.ids.length + extra.length;
      facts.index.set(row.externalUserId, index);
      extra.push(row.externalUserId);
    }
    result.contact[i] = index;
    result.amountFen[i] = row.amountFen;
    result.paidAt[i] = row.paidAt.getTime();
  });
  return { orders: result, facts: extra.length === 0 ? facts : withExtraContacts(facts, extra) };
}

function emptyFacts(size: number): ContactFacts {
  return {
    ids: [],
    index: new Map(),
    state: [],
    enteredAt: new Float64Array(size),
    addedAt: new Float64Array(size),
    removedAt: new Float64Array(size),
  };
}

function withExtraContacts(facts: ContactFacts, extra: string[]): ContactFacts {
  const size = facts.ids.length + extra.length;
  const grow = (from: Float64Array) => {
    const to = new Float64Array(size).fill(NaN);
    to.set(from);
    return to;
  };
  return {
    ids: [...facts.ids, ...extra],
    index: facts.index,
    state: [...facts.state, ...extra.map(() => null)],
    enteredAt: grow(facts.enteredAt),
    addedAt: grow(facts.addedAt),
    removedAt: grow(facts.removedAt),
  };
}
