import mongoose from 'mongoose';
import type { ContactModels } from '../contacts/index.ts';
import type { OrderModel } from './models.ts';

export interface PaidOrder {
  orderId: string;
  externalUserId: string;
  amountFen: number;
  paidAt: Date;
}

export type RecordOutcome = 'inserted' | 'updated' | 'unknown_contact';

/** A new order entered the pool (raised once per order id, never for a correction of a known one). */
export interface OrderPlaced {
  orderId: string;
  externalUserId: string;
}
export type OrderPlacedListener = (order: OrderPlaced) => Promise<void>;

/** The timeline key of an order: one `order_paid` event per order, however often it is recorded. */
export const orderEventKey = (orderId: string) => `order:${orderId}`;

/**
 * Records paid orders, keyed by order id (recording one again corrects it). Each also lands on the
 * contact's timeline as `order_paid` — what SOP stages and `bought` conditions count — and marks the
 * customer active. Orders of contacts the pool does not know are refused: analytics could not place them.
 */
export class OrderBook {
  private readonly placedListeners: OrderPlacedListener[] = [];

  constructor(private readonly deps: { orders: OrderModel; contacts: Pick<ContactModels, 'Contact' | 'TimelineEvent'> }) {}

  /**
   * Called for every order recorded for the first time, whichever path brought it (import, demo
   * seed, any later API): what order-triggered SOP plans enrol on (main.ts).
   */
  onOrderPlaced(listener: OrderPlacedListener): void {
    this.placedListeners.push(listener);
  }

  /** Order count and total spent (fen) of each of these contacts (absent = none). */
  async totalsOf(externalUserIds: string[]): Promise<Map<string, { orders: number; spentFen: number }>> {
    const rows = await this.deps.orders.aggregate<{ _id: string; orders: number; spentFen: number }>([
      { $match: { externalUserId: mongoose.trusted({ $in: externalUserIds }) } },
      { $group: { _id: '$externalUserId', orders: { $sum: 1 }, spentFen: { $sum: '$amountFen' } } },
    ]);
    return new Map(rows.map((r) => [r._id, { orders: r.orders, spentFen: r.spentFen }]));
  }

  async record(order: PaidOrder): Promise<RecordOutcome> {
    const [outcome] = await this.recordMany([order]);
    return outcome!;
  }

  /** One round trip per collection for the whole batch; outcomes in input order. */
  async recordMany(orders: PaidOrder[]): Promise<RecordOutcome[]> {
    if (orders.length === 0) return [];
    const odd = orders.find((o) => !Number.isSafeInteger(o.amountFen) || o.amountFen < 0);
    // Bulk upserts skip schema validators: a fraction of a fen here is a caller's bug, not data.
    if (odd) throw new RangeError(`order ${odd.orderId}: amountFen must be a whole, non-negative number of fen`);
    const { Contact, TimelineEvent } = this.deps.contacts;
    const ids = [...new Set(orders.map((o) => o.externalUserId))];
    const known = new Set(
      (await Contact.find({ externalUserId: mongoose.trusted({ $in: ids }) }, { _id: 0, externalUserId: 1 }).lean()).map((c) => c.externalUserId),
    );
    const accepted = orders.filter((o) => known.has(o.externalUserId));
    const inserted = new Set<number>();
    if (accepted.length > 0) {
      const result = await this.deps.orders.bulkWrite(
        accepted.map((o) => ({
          updateOne: {
            filter: { orderId: o.orderId },
            update: { $set: { externalUserId: o.externalUserId, amountFen: o.amountFen, paidAt: o.paidAt } },
            upsert: true,
          },
        })),
        { ordered: true },
      );
      for (const index of Object.keys(result.upsertedIds)) inserted.add(Number(index));
      await TimelineEvent.bulkWrite(
        accepted.map((o) => ({
          updateOne: {
            filter: { key: orderEventKey(o.orderId) },
            update: {
              $set: { externalUserId: o.externalUserId, at: o.paidAt, data: { orderId: o.orderId, amountFen: o.amountFen } },
              $setOnInsert: { kind: 'order_paid', userId: null },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      );
      await Contact.bulkWrite(
        accepted.map((o) => ({ updateOne: { filter: { externalUserId: o.externalUserId }, update: { $max: { lastActivityAt: o.paidAt } } } })),
        { ordered: false },
      );
    }
    let next = 0;
    const outcomes = orders.map((o): RecordOutcome => {
      if (!known.has(o.externalUserId)) return 'unknown_contact';
      return inserted.has(next++) ? 'inserted' : 'updated';
    });
    // After every write, so a listener reads the order, its timeline event and the contact's activity.
    for (const [i, o] of orders.entries()) {
      if (outcomes[i] !== 'inserted') continue;
      for (const listener of this.placedListeners) await listener({ orderId: o.orderId, externalUserId: o.externalUserId });
    }
    return outcomes;
  }
}
