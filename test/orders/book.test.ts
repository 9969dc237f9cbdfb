import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { stageOf } from '../../server/src/sop/index.ts';
import { OrderBook, registerOrderModel, type OrderModel } from '../../server/src/orders/index.ts';
import { openTestStore } from '../support/db.ts';

let store: Awaited<ReturnType<typeof openTestStore>>;
let contacts: ContactModels;
let orderModel: OrderModel;
let book: OrderBook;

beforeAll(async () => {
  store = await openTestStore();
  contacts = registerContactModels(store.connection);
  orderModel = registerOrderModel(store.connection);
  await Promise.all([...Object.values(contacts), orderModel].map((m) => m.init()));
  book = new OrderBook({ orders: orderModel, contacts });
  await contacts.Contact.create({ externalUserId: 'wm-buyer', name: '买家', lastActivityAt: new Date('2026-01-01T00:00:00Z') });
});
afterAll(() => store?.dispose());

describe('OrderBook', () => {
  it('records an order once per order id, with one order_paid timeline event the SOP stage logic counts', async () => {
    const order = { orderId: 'SO-1', externalUserId: 'wm-buyer', amountFen: 12_345, paidAt: new Date('2026-03-01T02:00:00Z') };
    expect(await book.record(order)).toBe('inserted');
    expect(await book.record({ ...order, amountFen: 12_000 })).toBe('updated');
    expect(await orderModel.find({}, { _id: 0, orderId: 1, amountFen: 1 }).lean()).toEqual([{ orderId: 'SO-1', amountFen: 12_000 }]);
    const events = await contacts.TimelineEvent.find({ externalUserId: 'wm-buyer' }).lean();
    expect(events).toEqual([expect.objectContaining({ kind: 'order_paid', key: 'order:SO-1', at: order.paidAt, data: { orderId: 'SO-1', amountFen: 12_000 } })]);
    expect(await contacts.Contact.findOne({ externalUserId: 'wm-buyer' }).lean()).toMatchObject({ lastActivityAt: order.paidAt });
  });

  it('refuses orders of contacts the pool does not know, and keeps the others of the batch', async () => {
    const outcomes = await book.recordMany([
      { orderId: 'SO-2', externalUserId: 'wm-stranger', amountFen: 100, paidAt: new Date('2026-03-02T00:00:00Z') },
      { orderId: 'SO-3', externalUserId: 'wm-buyer', amountFen: 200, paidAt: new Date('2026-03-03T00:00:00Z') },
      { orderId: 'SO-3', externalUserId: 'wm-buyer', amountFen: 250, paidAt: new Date('2026-03-03T00:00:00Z') },
    ]);
    expect(outcomes).toEqual(['unknown_contact', 'inserted', 'updated']);
    expect(await orderModel.exists({ orderId: 'SO-2' })).toBeNull();
    expect(await orderModel.findOne({ orderId: 'SO-3' }).lean()).toMatchObject({ amountFen: 250 });
    expect(await contacts.TimelineEvent.countDocuments({ kind: 'order_paid', externalUserId: 'wm-buyer' })).toBe(2);
    // Two paid orders make a friend a repeat buyer for SOP stage conditions.
    await contacts.FollowRelation.create({ externalUserId: 'wm-buyer', userId: 'zhangsan', status: 'active' });
    expect(await stageOf(contacts, 'wm-buyer', new Date('2026-03-10T00:00:00Z'))).toBe('repeat');
  });

  it('refuses an amount that is not whole fen', async () => {
    await expect(book.record({ orderId: 'SO-4', externalUserId: 'wm-buyer', amountFen: 1.5, paidAt: new Date() })).rejects.toThrow(RangeError);
  });
});
