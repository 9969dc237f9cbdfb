import { Analytics, analyticsModule } from '../../server/src/analytics/index.ts';
import { ContactPool, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { Importer, importModule } from '../../server/src/import/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { OrderBook, registerOrderModel, type OrderModel } from '../../server/src/orders/index.ts';
import { ScriptLibrary, registerScriptModels } from '../../server/src/script-library/index.ts';
import { registerSopModels, type SopModels } from '../../server/src/sop/index.ts';
import { registerRepTasks, type RepTaskModel } from '../../server/src/tasks/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules } from '../support/http.ts';

export const TOKEN = 'admin-token-for-tests-0123';
/** The reps the test corp's WeCom lists (what a sync records): the follow_userids test files may name. */
export const TEST_REPS = ['zhangsan', 'lisi', 'lina', 'zhangwei', 'wangfang', 'rep1', 'rep2'];
export const TIME_ZONE = 'Asia/Shanghai';

export interface AdminHarness {
  store: Awaited<ReturnType<typeof openTestStore>>;
  contacts: ContactModels;
  pool: ContactPool;
  orderModel: OrderModel;
  orders: OrderBook;
  sop: SopModels;
  tasks: RepTaskModel;
  scripts: ScriptLibrary;
  base: string;
  /** POSTs a CSV to the import API as an admin. */
  upload(kind: string, csv: string | Buffer, headers?: Record<string, string>): Promise<Response>;
  /** GETs an admin API path as an admin. */
  get(path: string): Promise<Response>;
  close(): Promise<void>;
}

/** The import and analytics APIs on a real store, as main.ts wires them. */
export async function startAdminHarness(options: { bodyLimitKb?: number } = {}): Promise<AdminHarness> {
  const store = await openTestStore();
  const contacts = registerContactModels(store.connection);
  const orderModel = registerOrderModel(store.connection);
  const sop = registerSopModels(store.connection);
  const tasks = registerRepTasks(store.connection);
  const scripts = new ScriptLibrary(registerScriptModels(store.connection));
  await Promise.all([...Object.values(contacts), ...Object.values(sop), orderModel, tasks].map((m) => m.init()));
  await scripts.init();
  const orders = new OrderBook({ orders: orderModel, contacts });
  const pool = new ContactPool(contacts);
  await pool.recordWecomReps(TEST_REPS);
  const logger = createLogger({ level: 'silent' });
  const adminGuard = requireAdmin(TOKEN);
  const analytics = new Analytics({ contacts, orders: orderModel, sop, tasks, scripts, timeZone: TIME_ZONE });
  const bodyLimitKb = options.bodyLimitKb ?? 64;
  const http = await serveModules(
    [importModule({ importer: new Importer({ contacts, orders, timeZone: TIME_ZONE }, logger), adminGuard, bodyLimitKb }), analyticsModule({ analytics, adminGuard, timeZone: TIME_ZONE })],
    { bodyLimitKb },
  );
  const { base } = http;
  const auth = { authorization: `Bearer ${TOKEN}` };
  return {
    store,
    contacts,
    pool,
    orderModel,
    orders,
    sop,
    tasks,
    scripts,
    base,
    upload: (kind, csv, headers = {}) =>
      fetch(`${base}/api/admin/import/${kind}`, { method: 'POST', headers: { 'content-type': 'text/csv; charset=utf-8', ...auth, ...headers }, body: typeof csv === 'string' ? csv : Uint8Array.from(csv) }),
    get: (path) => fetch(`${base}${path}`, { headers: auth }),
    async close() {
      await http.close();
      await store.dispose();
    },
  };
}
