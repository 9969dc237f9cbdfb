import { createCustomers, type CustomersModule } from '../../server/src/customers/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { startAdminHarness, TIME_ZONE, TOKEN, type AdminHarness } from '../import/harness.ts';
import { serveModules, type ServedModules } from '../support/http.ts';

export { TOKEN };

export interface CustomersHarness {
  admin: AdminHarness;
  customers: CustomersModule;
  http: ServedModules;
  /** The business clock the customers module reads (stages, scores). */
  clock: { now: Date };
  get(path: string): Promise<Response>;
  send(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

/** The import API (to load data as an operator would) and the customers module on one real store, as main.ts wires them. */
export async function startCustomersHarness(now = new Date('2026-06-15T02:00:00Z')): Promise<CustomersHarness> {
  const admin = await startAdminHarness();
  const clock = { now };
  const customers = await createCustomers({
    connection: admin.store.connection,
    contacts: admin.contacts,
    orders: admin.orderModel,
    pool: admin.pool,
    sop: admin.sop,
    adminGuard: requireAdmin(TOKEN),
    timeZone: TIME_ZONE,
    logger: createLogger({ level: 'silent' }),
    now: () => clock.now,
  });
  const http = await serveModules([customers.http]);
  const auth = { authorization: `Bearer ${TOKEN}` };
  return {
    admin,
    customers,
    http,
    clock,
    get: (path) => fetch(`${http.base}${path}`, { headers: auth }),
    send: (method, path, body) =>
      fetch(`${http.base}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
    async close() {
      customers.stop();
      await http.close();
      await admin.close();
    },
  };
}

export interface ListPage {
  total: number;
  items: Array<{ externalUserId: string; name: string; stage: string; score: number; channel: string | null; orders: number; spentFen: number; reps: Array<{ userId: string; status: string; remark: string }>; tags: Array<{ tagId: string; name: string }> }>;
  nextCursor: string | null;
}

/** Every page of a list query, following the cursor; `between` runs after each page (to write while paging). */
export async function allPages(h: CustomersHarness, query: string, between: (page: number) => Promise<void> = async () => {}): Promise<{ total: number; ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let total = 0;
  let pages = 0;
  do {
    const res = await h.get(`/api/admin/contacts?${query}${cursor ? `&cursor=${cursor}` : ''}`);
    if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
    const page = (await res.json()) as ListPage;
    if (pages === 0) total = page.total;
    ids.push(...page.items.map((i) => i.externalUserId));
    cursor = page.nextCursor;
    await between(pages++);
  } while (cursor);
  return { total, ids, pages };
}
