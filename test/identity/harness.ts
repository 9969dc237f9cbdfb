import { ContactPool, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { Identity, identityModule, registerIdentityModels, type IdentityModels } from '../../server/src/identity/index.ts';
import { Importer, importModule } from '../../server/src/import/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { OrderBook, registerOrderModel, type OrderModel } from '../../server/src/orders/index.ts';
import { registerSopModels, type SopModels } from '../../server/src/sop/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules } from '../support/http.ts';

export const TOKEN = 'admin-token-for-identity-tests';
export const TIME_ZONE = 'Asia/Shanghai';

export interface IdentityHarness {
  store: Awaited<ReturnType<typeof openTestStore>>;
  contacts: ContactModels;
  pool: ContactPool;
  orderModel: OrderModel;
  orders: OrderBook;
  sop: SopModels;
  models: IdentityModels;
  identity: Identity;
  upload(kind: string, csv: string): Promise<Response>;
  call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** The import and identity APIs on a real store, wired as main.ts wires them. */
export async function startIdentityHarness(): Promise<IdentityHarness> {
  const store = await openTestStore();
  const contacts = registerContactModels(store.connection);
  const orderModel = registerOrderModel(store.connection);
  const sop = registerSopModels(store.connection);
  await Promise.all([...Object.values(contacts), ...Object.values(sop), orderModel].map((m) => m.init()));
  const models = registerIdentityModels(store.connection);
  const identity = new Identity({ contacts, orders: orderModel, sop, models });
  await identity.init();
  const pool = new ContactPool(contacts);
  // The reps the test files name as follow_userid, as a WeCom sync would list them.
  await pool.recordWecomReps(['rep1', 'rep2']);
  pool.onIdentityFacts((externalUserId, facts) => identity.reconcile(externalUserId, facts));
  const orders = new OrderBook({ orders: orderModel, contacts });
  const adminGuard = requireAdmin(TOKEN);
  const importer = new Importer({ contacts, orders, identity, timeZone: TIME_ZONE }, createLogger({ level: 'silent' }));
  const http = await serveModules([importModule({ importer, adminGuard, bodyLimitKb: 64 }), identityModule({ identity, adminGuard })]);
  const auth = { authorization: `Bearer ${TOKEN}` };
  return {
    store,
    contacts,
    pool,
    orderModel,
    orders,
    sop,
    models,
    identity,
    upload: (kind, csv) => fetch(`${http.base}/api/admin/import/${kind}`, { method: 'POST', headers: { 'content-type': 'text/csv; charset=utf-8', ...auth }, body: csv }),
    async call<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${http.base}${path}`, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as T };
    },
    async close() {
      await http.close();
      await store.dispose();
    },
  };
}
