import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp, startHttpServer, type HttpModule, type RunningHttpServer } from '../../server/src/http/index.ts';
import { Health, createLogger, createMetrics } from '../../server/src/observability/index.ts';

const echo: HttpModule = {
  name: 'echo',
  mount(router) {
    router.post('/echo', (ctx) => {
      ctx.body = z.object({ name: z.string().min(1), count: z.number().int() }).parse(ctx.request.body);
    });
    router.get('/boom', () => {
      throw new Error('database password is hunter2');
    });
    router.get('/forbidden', (ctx) => ctx.throw(403, 'not your customer'));
  },
};

let store = { ok: true };
let bot = { ok: true };
let running: RunningHttpServer;
let base: string;

beforeAll(async () => {
  const health = new Health();
  health.register({ name: 'store', critical: true, check: () => store });
  health.register({ name: 'bot', critical: false, check: () => bot });
  const app = createApp({
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    health,
    bodyLimitKb: 1,
    modules: [echo],
  });
  running = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${running.port}`;
});

afterAll(() => running.close(1_000));

const postJson = (path: string, body: string) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('operational endpoints', () => {
  it('reports each part on /healthz: ok, degraded for a non-critical part, 503 when a critical part is down', async () => {
    let res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', parts: { store: { ok: true }, bot: { ok: true } } });

    bot = { ok: false };
    res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'degraded' });

    store = { ok: false };
    res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'down', parts: { store: { ok: false } } });
    store = { ok: true };
    bot = { ok: true };
  });

  it('exposes Prometheus text with process metrics and request counters by matched route', async () => {
    await fetch(`${base}/healthz`);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^# HELP process_cpu_user_seconds_total/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/healthz"\}/m);
  });

  it('echoes a sane X-Request-Id and invents one otherwise', async () => {
    const given = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const invented = await fetch(`${base}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(invented.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('error responses', () => {
  it('names the invalid field in a 400', async () => {
    const res = await postJson('/echo', JSON.stringify({ name: '', count: 1.5 }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; issues: Array<{ path: string }> };
    expect(body.error).toBe('invalid_request');
    expect(body.issues.map((i) => i.path)).toEqual(['name', 'count']);
  });

  it('accepts a valid body', async () => {
    const res = await postJson('/echo', JSON.stringify({ name: 'a', count: 2 }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'a', count: 2 });
  });

  it('answers malformed JSON with 400 and an oversized body with 413', async () => {
    const malformed = await postJson('/echo', '{"name":');
    expect(malformed.status).toBe(400);
    const tooLarge = await postJson('/echo', JSON.stringify({ name: 'x'.repeat(4096), count: 1 }));
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: 'payload_too_large' });
  });

  it('keeps client errors readable and hides internals on 500', async () => {
    const forbidden = await fetch(`${base}/forbidden`);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({ error: 'forbidden', message: 'not your customer' });

    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(500);
    const text = await boom.text();
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toMatchObject({ error: 'internal_error', requestId: boom.headers.get('x-request-id') });
  });

  it('answers unknown routes with a JSON 404 and wrong methods with 405', async () => {
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
    const wrongMethod = await fetch(`${base}/echo`);
    expect(wrongMethod.status).toBe(405);
  });
});
