import type { Connection } from 'mongoose';
import { createChurnRisk, type ChurnRisk } from '../../server/src/churn/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { registerOrderModel, type OrderModel } from '../../server/src/orders/index.ts';
import type { SopHarness, TestClock } from '../sop/harness.ts';

/** The churn module on the SOP harness's store and clock, wired to the engine as main.ts wires it. */
export async function buildChurn(connection: Connection, h: SopHarness, clock: TestClock): Promise<{ churn: ChurnRisk; orders: OrderModel }> {
  const orders = registerOrderModel(connection);
  await orders.init();
  const churn = await createChurnRisk({
    connection,
    contacts: h.contacts,
    orders,
    logger: createLogger({ level: 'silent' }),
    now: clock.now,
    onScored: (event) => h.sop.engine.onChurnScored(event),
  });
  return { churn, orders };
}
