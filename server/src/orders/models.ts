import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * A paid order, from a shop, a CRM or an import. Amounts are integer fen so sums never drift;
 * the API and CSV speak yuan.
 */
const orderSchema = new Schema(
  {
    orderId: { type: String, required: true, unique: true },
    externalUserId: { type: String, required: true },
    amountFen: { type: Number, required: true, min: 0, validate: { validator: Number.isInteger, message: 'amountFen must be whole fen' } },
    paidAt: { type: Date, required: true },
  },
  { timestamps: true },
);
orderSchema.index({ externalUserId: 1, paidAt: 1 });
orderSchema.index({ paidAt: 1 });
// The analytics mirror re-reads only orders whose updatedAt moved.
orderSchema.index({ updatedAt: 1 });

export type Order = InferSchemaType<typeof orderSchema>;
export type OrderModel = Model<Order>;

export function registerOrderModel(connection: Connection): OrderModel {
  return connection.model('Order', orderSchema, 'orders');
}
