import type { Connection } from 'mongoose';
import { afterAll, beforeAll } from 'vitest';
import { createApp, startHttpServer, type RunningHttpServer } from '../../server/src/http/index.ts';
import { Health, createLogger, createMetrics } from '../../server/src/observability/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, type SopHarness } from './harness.ts';

/** Monday 2026-11-23 10:00 in Asia/Shanghai. */
export const MONDAY_10 = '2026-11-23T02:00:00Z';
export const DAY = 86_400_000;

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

export interface SopApiFixture {
  connection: Connection;
  sim: WecomSimulator;
  clock: TestClock;
  h: SopHarness;
  api: AdminApi;
}

/**
 * One test file's store, demo simulator, SOP module and admin API, on a clock at MONDAY_10: set up
 * before the file's tests and torn down after. Read the fields inside tests (they are set in beforeAll).
 */
export function useSopApi(): SopApiFixture {
  const fixture = {} as SopApiFixture; // filled in by beforeAll, before any test reads it
  let store: Awaited<ReturnType<typeof openTestStore>> | undefined;
  beforeAll(async () => {
    store = await openTestStore();
    fixture.connection = store.connection;
    fixture.clock = new TestClock(new Date(MONDAY_10).getTime());
    fixture.sim = await startWecomSimulator({ seed: 'demo', now: fixture.clock.ms });
    fixture.h = await buildSop(store.connection, fixture.sim, fixture.clock);
    fixture.api = await startAdminApi(fixture.h);
  });
  afterAll(async () => {
    await fixture.h?.sop.engine.stop();
    await fixture.api?.close();
    await fixture.sim?.close();
    await store?.dispose();
  });
  return fixture;
}
