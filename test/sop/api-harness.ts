import { createApp, startHttpServer, type RunningHttpServer } from '../../server/src/http/index.ts';
import { Health, createLogger, createMetrics } from '../../server/src/observability/index.ts';
import type { SopHarness } from './harness.ts';

const TOKEN = 'sop-admin-token-0123456789';

export interface AdminApi {
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }>;
  /** The raw answer, for non-JSON bodies (YAML exports). */
  text(path: string): Promise<{ status: number; text: string; headers: Headers }>;
  close(): Promise<void>;
}

/** The SOP operator API of a harness over HTTP, signed in as admin. */
export async function startAdminApi(h: SopHarness): Promise<AdminApi> {
  const app = createApp({ logger: createLogger({ level: 'silent' }), metrics: createMetrics(), health: new Health(), bodyLimitKb: 256, modules: [h.sop.http] });
  const http: RunningHttpServer = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${http.port}/api/admin/sop`;
  const send = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    async call<T>(method: string, path: string, body?: unknown) {
      const res = await send(method, path, body);
      return { status: res.status, body: (await res.json()) as T, headers: res.headers };
    },
    async text(path: string) {
      const res = await send('GET', path);
      return { status: res.status, text: await res.text(), headers: res.headers };
    },
    close: () => http.close(1_000),
  };
}
