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
 * Times are epoch milliseconds (NaN when absent) so the metrics loop does no Date work.
 */
export interface ContactFacts {
  ids: string[];
  state: Array<string | null>;
  enteredAt: Float64Array;
  addedAt: Float64Array;
  removedAt: Float64Array;
}

/** Orders as parallel arrays; `contact` indexes ContactFacts (buyers without a relation are appended there). */
export interface OrderFacts {
  contact: Int32Array;
  amountFen: Float64Array;
  paidAt: Float64Array;
  /** Order indexes by paid time, for the orders of a period. */
  byPaidAt: Int32Array;
  /** Order indexes grouped by contact: contact i's are byContact[contactStart[i] .. contactStart[i + 1]). */
  byContact: Int32Array;
  contactStart: Int32Array;
}

interface Relation {
  externalUserId: string;
  state: string | null;
  lost: boolean;
  enteredAt: number;
  addedAt: number;
  removedAt: number;
}

interface OrderRow {
  externalUserId: string;
  amountFen: number;
  paidAt: number;
}

interface RelationDoc {
  externalUserId: string;
  userId: string;
  state?: string | null;
  status?: string;
  enteredAt?: Date | null;
  addedAt?: Date | null;
  removedAt?: Date | null;
}

interface OrderDoc {
  orderId: string;
  externalUserId: string;
  amountFen: number;
  paidAt: Date;
}

/**
 * Writes that reached the store after a read began may carry an `updatedAt` stamped a little before
 * it (the writer's clock, then the trip to and the queue in the store): each delta read looks back
 * this far. Longer is safer but re-reads a bulk write for that long after it.
 */
const OVERLAP_MS = 10_000;
const BATCH_SIZE = 10_000;
const ms = (date: Date | null | undefined) => (date ? date.getTime() : NaN);
const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

/**
 * An in-memory mirror of the rows analytics needs: reading 100,000 relations and 300,000 orders
 * from the store takes seconds, so they are read in full once (at start-up, in the background) and
 * afterwards only the rows changed since the last read, by `updatedAt` (mongoose stamps every write
 * of these models). Relations and orders are never deleted by this application; a row deleted by
 * hand stays counted until the next restart.
 */
export class FactsMirror {
  private readonly relations = new Map<string, Relation>();
  private readonly orders = new Map<string, OrderRow>();
  private initial: Promise<void> | null = null;
  /** Start of the latest completed read: the next delta reads rows updated since (minus the overlap). */
  private readThrough = 0;
  private built: { facts: ContactFacts; orders: OrderFacts } | null = null;

  constructor(private readonly deps: { contacts: Pick<ContactModels, 'FollowRelation'>; orders: OrderModel }) {}

  /** Up-to-date facts: the first call waits for the full read, later ones for a delta read. */
  async current(): Promise<{ facts: ContactFacts; orders: OrderFacts }> {
    if (!this.initial) this.initial = this.read(null).catch((err: unknown) => {
      this.initial = null;
      throw err;
    });
    await this.initial;
    await this.read(new Date(this.readThrough - OVERLAP_MS));
    if (!this.built) this.built = this.build();
    return this.built;
  }

  private async read(since: Date | null): Promise<void> {
    // The real clock, like the updatedAt mongoose stamps that the next delta read compares with.
    const started = Date.now();
    const filter = since ? { updatedAt: mongoose.trusted({ $gte: since }) } : {};
    // The driver cursor, not mongoose documents: no casting or hydration for 400,000 small rows.
    const [relations, orders] = await Promise.all([
      this.deps.contacts.FollowRelation.collection
        .find<RelationDoc>(filter, { projection: { _id: 0, externalUserId: 1, userId: 1, state: 1, status: 1, enteredAt: 1, addedAt: 1, removedAt: 1 }, batchSize: BATCH_SIZE })
        .toArray(),
      this.deps.orders.collection
        .find<OrderDoc>(filter, { projection: { _id: 0, orderId: 1, externalUserId: 1, amountFen: 1, paidAt: 1 }, batchSize: BATCH_SIZE })
        .toArray(),
    ]);
    let changed = false;
    for (const doc of relations) {
      const key = `${doc.externalUserId}\u0000${doc.userId}`;
      const next: Relation = {
        externalUserId: doc.externalUserId,
        state: doc.state ?? null,
        lost: doc.status === 'lost',
        enteredAt: ms(doc.enteredAt),
        addedAt: ms(doc.addedAt),
        removedAt: ms(doc.removedAt),
      };
      const previous = this.relations.get(key);
      if (previous && previous.state === next.state && previous.lost === next.lost && same(previous.enteredAt, next.enteredAt) && same(previous.addedAt, next.addedAt) && same(previous.removedAt, next.removedAt)) continue;
      this.relations.set(key, next);
      changed = true;
    }
    for (const doc of orders) {
      const previous = this.orders.get(doc.orderId);
      const paidAt = doc.paidAt.getTime();
      if (previous && previous.externalUserId === doc.externalUserId && previous.amountFen === doc.amountFen && previous.paidAt === paidAt) continue;
      this.orders.set(doc.orderId, { externalUserId: doc.externalUserId, amountFen: doc.amountFen, paidAt });
      changed = true;
    }
    if (changed) this.built = null;
    this.readThrough = Math.max(this.readThrough, started);
  }

  private build(): { facts: ContactFacts; orders: OrderFacts } {
    const first = new Map<string, { relation: Relation; since: number }>();
    for (const relation of this.relations.values()) {
      const since = Number.isNaN(relation.enteredAt) ? relation.addedAt : relation.enteredAt;
      if (Number.isNaN(since)) continue;
      const seen = first.get(relation.externalUserId);
      if (!seen || since < seen.since) first.set(relation.externalUserId, { relation, since });
    }
    const buyersWithoutRelation = new Set<string>();
    for (const order of this.orders.values()) if (!first.has(order.externalUserId)) buyersWithoutRelation.add(order.externalUserId);

    const size = first.size + buyersWithoutRelation.size;
    const facts: ContactFacts = {
      ids: [],
      state: [],
      enteredAt: new Float64Array(size).fill(NaN),
      addedAt: new Float64Array(size).fill(NaN),
      removedAt: new Float64Array(size).fill(NaN),
    };
    const index = new Map<string, number>();
    for (const [id, { relation, since }] of first) {
      const i = facts.ids.length;
      index.set(id, i);
      facts.ids.push(id);
      facts.state.push(relation.state);
      facts.enteredAt[i] = since;
      facts.addedAt[i] = relation.addedAt;
      if (relation.lost) facts.removedAt[i] = relation.removedAt;
    }
    // A buyer with no rep relation (e.g. known only to the bot): counted in revenue, never in a cohort.
    for (const id of buyersWithoutRelation) {
      index.set(id, facts.ids.length);
      facts.ids.push(id);
      facts.state.push(null);
    }

    const n = this.orders.size;
    const contact = new Int32Array(n);
    const amountFen = new Float64Array(n);
    const paidAt = new Float64Array(n);
    const contactStart = new Int32Array(size + 1);
    let k = 0;
    for (const order of this.orders.values()) {
      const i = index.get(order.externalUserId)!;
      contact[k] = i;
      amountFen[k] = order.amountFen;
      paidAt[k] = order.paidAt;
      contactStart[i + 1]!++;
      k++;
    }
    for (let i = 0; i < size; i++) contactStart[i + 1]! += contactStart[i]!;
    const byContact = new Int32Array(n);
    const filled = contactStart.slice(0, size);
    for (let o = 0; o < n; o++) byContact[filled[contact[o]!]!++] = o;
    const byPaidAt = Int32Array.from({ length: n }, (_, o) => o).sort((a, b) => paidAt[a]! - paidAt[b]!);
    return { facts, orders: { contact, amountFen, paidAt, byPaidAt, byContact, contactStart } };
  }
}
