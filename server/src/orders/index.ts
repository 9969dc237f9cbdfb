export { registerOrderModel, type Order, type OrderModel } from './models.ts';
export { OrderBook, orderEventKey, type PaidOrder, type RecordOutcome, type OrderPlaced, type OrderPlacedListener } from './book.ts';
