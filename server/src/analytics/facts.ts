import mongoose from 'mongoose';
import type { ContactModels } from '../contacts/index.ts';
import type { OrderModel } from '../orders/index.ts';
import type { FactsSnapshots, LoadedSnapshot, MirrorState, SnapshotHead } from './snapshot.ts';

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

export interface Relation {
  externalUserId: string;
  state: string | null;
  lost: boolean;
  enteredAt: number;
  addedAt: number;
  removedAt: number;
}

export interface OrderRow {
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

export interface BuiltFacts {
  facts: ContactFacts;
  orders: OrderFacts;
}

/** The facts of one answer, and how fresh they are. */
export interface CurrentFacts {
  facts: ContactFacts;
  orders: OrderFacts;
  /** Every write that reached the store before this instant is in the facts. */
  asOf: number;
  /** A read of more changes is under way: the answer did not wait for it (a bulk import, say). */
  refreshing: boolean;
}

export interface MirrorOptions {
  /**
   * Changed rows (per collection) a request reads itself before it answers. A larger delta (a bulk
   * import, a snapshot older than the last burst of writes) is read in the background while
   * requests answer from the facts as of `asOf`.
   */
  inlineDeltaRows: number;
  /** How far each delta read looks back for late-stamped writes (OVERLAP_MS unless a test says). */
  overlapMs?: number;
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
 * An in-memory mirror of the rows analytics needs, read by `updatedAt` (mongoose stamps every write
 * of these models): reading 100,000 relations and 300,000 orders from the store takes seconds, so an
 * instance starts from the persisted snapshot (FactsSnapshots) when there is one and reads only the
 * rows changed after its watermark; only without any snapshot does it read everything. Reads run one
 * at a time, in order, so an older read never overwrites what a newer one saw. Relations and orders
 * are never deleted by this application; a row deleted by hand stays counted until a snapshot
 * written after a full read replaces it.
 */
export class FactsMirror {
  private relations = new Map<string, Relation>();
  private orders = new Map<string, OrderRow>();
  private initial: Promise<void> | null = null;
  private catchingUp: Promise<void> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Start of the latest completed read: the next delta reads rows updated since (minus the overlap). */
  private readThrough = 0;
  private built: BuiltFacts | null = null;
  /**
   * A snapshot's rows, not yet turned into the maps: that costs about as much as a build, so a
   * fresh instance answers from the snapshot's facts and decodes only when a change must be applied.
   */
  private undecoded: LoadedSnapshot['rows'] | null = null;
  /** What a test or the bench asks: where this mirror started from, and how many rows it has read since. */
  readonly stats = { loadedFrom: null as 'snapshot' | 'store' | null, rowsRead: 0, rowsSinceSave: 0, savedWatermark: 0 };

  constructor(
    private readonly deps: { contacts: Pick<ContactModels, 'FollowRelation'>; orders: OrderModel; snapshots: FactsSnapshots | null },
    private readonly options: MirrorOptions,
  ) {}

  /**
   * Facts for an answer: after the first load (from the snapshot, else a full read), a small delta
   * is read before answering; a large one starts in the background and the answer says `refreshing`.
   */
  async current(): Promise<CurrentFacts> {
    await this.ready();
    if (!this.catchingUp) {
      const complete = await this.serial(() => this.read(this.options.inlineDeltaRows));
      if (!complete) void this.catchUp().catch(() => undefined); // the next request tries again
    }
    this.built ??= this.build();
    return { ...this.built, asOf: this.readThrough, refreshing: this.catchingUp !== null };
  }

  /** Loads the snapshot, or reads everything when there is none; once. */
  ready(): Promise<void> {
    this.initial ??= this.serial(async () => {
      const snapshot = await this.deps.snapshots?.load().catch(() => null);
      if (snapshot) this.adopt(snapshot);
      else {
        await this.read(null);
        this.stats.loadedFrom = 'store';
      }
    }).catch((err: unknown) => {
      this.initial = null;
      throw err;
    });
    return this.initial;
  }

  /**
   * Reads every change since the watermark, however many. When a newer snapshot exists (the lease
   * holder caught up first), starts from it instead: cheaper than reading the rows it already holds.
   */
  catchUp(): Promise<void> {
    this.catchingUp ??= this.ready()
      .then(() =>
        this.serial(async () => {
          const head = await this.deps.snapshots?.head();
          if (head && head.watermark > this.readThrough) {
            const snapshot = await this.deps.snapshots!.load();
            if (snapshot && snapshot.watermark > this.readThrough) this.adopt(snapshot);
          }
          await this.read(null);
        }),
      )
      .finally(() => (this.catchingUp = null));
    return this.catchingUp;
  }

  /** The rows as of the watermark, for a snapshot. Synchronous, so no read lands halfway through. */
  state(): MirrorState & { built: BuiltFacts } {
    this.decode();
    this.built ??= this.build();
    return { relations: this.relations, orders: this.orders, watermark: this.readThrough, built: this.built };
  }

  /** Persists the rows as of the watermark (lease holder only), so other instances start from them. */
  async save(): Promise<SnapshotHead> {
    if (!this.deps.snapshots) throw new Error('analytics: this mirror keeps no snapshots');
    const rows = this.stats.rowsSinceSave;
    this.stats.rowsSinceSave = 0;
    try {
      // save() encodes the maps before its first await: no read lands in the middle.
      const head = await this.deps.snapshots.save(this.state());
      this.stats.savedWatermark = head.watermark;
      return head;
    } catch (err) {
      this.stats.rowsSinceSave += rows;
      throw err;
    }
  }

  private adopt(snapshot: LoadedSnapshot): void {
    this.undecoded = snapshot.rows;
    this.relations = new Map();
    this.orders = new Map();
    this.readThrough = snapshot.watermark;
    this.built = snapshot.built;
    this.stats.loadedFrom = 'snapshot';
    this.stats.savedWatermark = snapshot.watermark;
    this.stats.rowsSinceSave = 0;
  }

  private decode(): void {
    if (!this.undecoded) return;
    ({ relations: this.relations, orders: this.orders } = this.undecoded());
    this.undecoded = null;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Reads the rows changed since the watermark (all rows before the first read). With a `limit`,
   * gives up (false, nothing applied) when more than that many changed in either collection.
   */
  private async read(limit: number | null): Promise<boolean> {
    // The real clock, like the updatedAt mongoose stamps that the next delta read compares with.
    const started = Date.now();
    const filter = this.readThrough > 0 ? { updatedAt: mongoose.trusted({ $gte: new Date(this.readThrough - (this.options.overlapMs ?? OVERLAP_MS)) }) } : {};
    const cap = limit === null ? {} : { limit: limit + 1 };
    // The driver cursor, not mongoose documents: no casting or hydration for 400,000 small rows.
    const [relations, orders] = await Promise.all([
      this.deps.contacts.FollowRelation.collection
        .find<RelationDoc>(filter, { projection: { _id: 0, externalUserId: 1, userId: 1, state: 1, status: 1, enteredAt: 1, addedAt: 1, removedAt: 1 }, batchSize: BATCH_SIZE, ...cap })
        .toArray(),
      this.deps.orders.collection
        .find<OrderDoc>(filter, { projection: { _id: 0, orderId: 1, externalUserId: 1, amountFen: 1, paidAt: 1 }, batchSize: BATCH_SIZE, ...cap })
        .toArray(),
    ]);
    this.stats.rowsRead += relations.length + orders.length;
    const any = relations.length + orders.length > 0;
    // A request does not decode a snapshot's rows (see `undecoded`): that is left to the catch-up too.
    if (limit !== null && (relations.length > limit || orders.length > limit || (any && this.undecoded))) return false;
    if (any) this.decode();
    this.stats.rowsSinceSave += relations.length + orders.length;
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
    return true;
  }

  private build(): BuiltFacts {
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
    let k = 0;
    for (const order of this.orders.values()) {
      const i = index.get(order.externalUserId)!;
      contact[k] = i;
      amountFen[k] = order.amountFen;
      paidAt[k] = order.paidAt;
      k++;
    }
    const byPaidAt = Int32Array.from({ length: n }, (_, o) => o).sort((a, b) => paidAt[a]! - paidAt[b]!);
    return { facts, orders: { contact, amountFen, paidAt, byPaidAt, ...groupByContact(contact, size) } };
  }
}

/** Order indexes grouped by contact (a counting sort): OrderFacts' `byContact` and `contactStart`. */
export function groupByContact(contact: Int32Array, contacts: number): { byContact: Int32Array; contactStart: Int32Array } {
  const contactStart = new Int32Array(contacts + 1);
  for (let o = 0; o < contact.length; o++) contactStart[contact[o]! + 1]!++;
  for (let i = 0; i < contacts; i++) contactStart[i + 1]! += contactStart[i]!;
  const byContact = new Int32Array(contact.length);
  const filled = contactStart.slice(0, contacts);
  for (let o = 0; o < contact.length; o++) byContact[filled[contact[o]!]!++] = o;
  return { byContact, contactStart };
}
