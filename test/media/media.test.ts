import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireAdmin } from '../../server/src/http/index.ts';
import { MEDIA_ID_MARGIN_MS, MediaSourceError, WecomMediaCache, createMedia, type Media } from '../../server/src/media/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { createWecomClient } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { serveModules, type ServedModules } from '../support/http.ts';
import { GIF_1PX, JPEG_HEAD, PNG_1PX } from '../support/images.ts';
import { manualClock } from '../wecom-simulator/helpers.ts';

const TOKEN = 'media-admin-token-0123456789';
const PUBLIC_URL = 'http://scrm.test';
const DAY = 86_400_000;
const clock = manualClock(Date.parse('2026-11-23T02:00:00Z'));

let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let media: Media;
let served: ServedModules;
/** Serves images (and misbehaves) for the http(s) source tests. */
let origin: http.Server;
let originBase: string;

beforeAll(async () => {
  store = await openTestStore();
  sim = await startWecomSimulator({ now: clock.now });
  const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger: createLogger({ level: 'silent' }) });
  media = await createMedia({ connection: store.connection, client, adminGuard: requireAdmin(TOKEN), publicUrl: PUBLIC_URL, now: clock.now, allowInternalHosts: true });
  served = await serveModules([media.http]);
  origin = http.createServer((req, res) => {
    if (req.url === '/pic.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG_1PX);
    if (req.url === '/page.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not an image</html>');
    if (req.url === '/huge.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.concat([PNG_1PX, Buffer.alloc(64 * 1024)]));
    if (req.url === '/anim.gif') return void res.writeHead(200, { 'content-type': 'image/gif' }).end(GIF_1PX);
    if (req.url === '/slow.png') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originBase = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});
afterAll(async () => {
  origin?.closeAllConnections();
  origin?.close();
  await served?.close();
  await sim?.close();
  await store?.dispose();
});
beforeEach(() => sim.resetCalls());

const upload = (body: Uint8Array | string, contentType: string | null, token: string | null = TOKEN) =>
  fetch(`${served.base}/api/admin/media`, {
    method: 'POST',
    headers: { ...(contentType ? { 'content-type': contentType } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : Uint8Array.from(body),
  });

describe('POST /api/admin/media and GET /media/:id', () => {
  it('stores a PNG and serves the same bytes with long-lived cache headers and an ETag', async () => {
    const res = await upload(PNG_1PX, 'image/png');
    expect(res.status).toBe(201);
    const saved = (await res.json()) as { id: string; url: string; contentType: string; size: number };
    expect(saved).toEqual({ id: expect.stringMatching(/^[0-9a-f]{24}$/), url: `${PUBLIC_URL}/media/${saved.id}`, contentType: 'image/png', size: PNG_1PX.length });
    const got = await fetch(`${served.base}/media/${saved.id}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('cache-control')).toMatch(/max-age=31536000/);
    expect(Buffer.from(await got.arrayBuffer()).equals(PNG_1PX)).toBe(true);
    const again = await fetch(`${served.base}/media/${saved.id}`, { headers: { 'if-none-match': got.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('accepts JPEG by its bytes, and refuses GIF, which WeCom does not send', async () => {
    expect((await upload(JPEG_HEAD, 'image/jpeg')).status).toBe(201);
    const gif = await upload(GIF_1PX, 'image/gif');
    expect(gif.status).toBe(415);
    expect(((await gif.json()) as { message: string }).message).toMatch(/WeCom sends only PNG and JPEG/);
  });

  it('answers 415 for other content types, 400 for bytes that are not the declared image or none, 413 over 2 MB', async () => {
    const svg = await upload('<svg/>', 'image/svg+xml');
    expect(svg.status).toBe(415);
    expect(((await svg.json()) as { message: string }).message).toMatch(/image\/png or image\/jpeg/);
    expect((await upload(PNG_1PX, null)).status).toBe(415);
    const lie = await upload(GIF_1PX, 'image/png');
    expect(lie.status).toBe(400);
    expect(((await lie.json()) as { message: string }).message).toMatch(/a GIF image: WeCom sends only PNG and JPEG images/);
    const text = await upload('plain text, not a picture', 'image/jpeg');
    expect(((await text.json()) as { message: string }).message).toMatch(/not a PNG or JPEG image/);
    expect((await upload(new Uint8Array(0), 'image/png')).status).toBe(400);
    const big = await upload(Buffer.concat([PNG_1PX, Buffer.alloc(2 * 1024 * 1024)]), 'image/png');
    expect(big.status).toBe(413);
    expect(((await big.json()) as { message: string }).message).toMatch(/larger than 2 MB/);
  });

  it('needs the admin token to upload, and answers 404 for unknown or malformed ids', async () => {
    expect((await upload(PNG_1PX, 'image/png', null)).status).toBe(401);
    expect((await fetch(`${served.base}/media/${'0'.repeat(24)}`)).status).toBe(404);
    expect((await fetch(`${served.base}/media/not-an-id`)).status).toBe(404);
  });
});

describe('WeCom media_id cache', () => {
  async function ownImage(): Promise<string> {
    return ((await (await upload(PNG_1PX, 'image/png')).json()) as { id: string }).id;
  }

  it('uploads once, reuses the media_id while valid (every spelling of our media), and uploads again after 3 days − 1 h', async () => {
    const id = await ownImage();
    const first = await media.cache.mediaIdFor(id);
    expect(await media.cache.mediaIdFor(`${PUBLIC_URL}/media/${id}`)).toBe(first);
    expect(await media.cache.mediaIdFor(`/media/${id}`)).toBe(first);
    expect(sim.calls('/media/upload')).toHaveLength(1);
    clock.advance(3 * DAY - MEDIA_ID_MARGIN_MS - 1000);
    expect(await media.cache.mediaIdFor(id)).toBe(first);
    clock.advance(1000);
    const second = await media.cache.mediaIdFor(id);
    expect(second).not.toBe(first);
    // Three days on, the simulator refuses the client's old token once (42001): count the uploads that took.
    expect(sim.calls('/media/upload').filter((c) => c.errcode === 0)).toHaveLength(2);
    expect(await media.models.WecomMedia.countDocuments({ source: `media:${id}` })).toBe(1);
  });

  it('uploads concurrent requests for one source once', async () => {
    const id = await ownImage();
    const ids = await Promise.all(Array.from({ length: 5 }, () => media.cache.mediaIdFor(id)));
    expect(new Set(ids).size).toBe(1);
    expect(sim.calls('/media/upload')).toHaveLength(1);
  });

  it('fetches an http(s) image, and says which source failures a retry could fix', async () => {
    expect(await media.cache.mediaIdFor(`${originBase}/pic.png`)).toBeTruthy();
    const failure = (source: string) => media.cache.mediaIdFor(source).then(() => expect.fail('expected a failure'), (err: unknown) => err as MediaSourceError);
    expect(await failure(`${originBase}/missing.png`)).toMatchObject({ retryable: false, message: expect.stringMatching(/HTTP 404/) });
    expect(await failure(`${originBase}/page.html`)).toMatchObject({ retryable: false, message: expect.stringMatching(/not a PNG/) });
    expect(await failure('ftp://example.com/a.png')).toBeInstanceOf(MediaSourceError);
    expect(await failure(`media:${'0'.repeat(24)}`)).toBeInstanceOf(MediaSourceError);
    expect(await failure('0'.repeat(24))).toMatchObject({ retryable: false, message: expect.stringMatching(/no uploaded media/) });
  });

  it('gives up on a slow or oversized source within its limits', async () => {
    const cache = new WecomMediaCache({
      models: media.models,
      upload: () => expect.fail('nothing should be uploaded'),
      publicUrl: PUBLIC_URL,
      fetchTimeoutMs: 200,
      maxBytes: 16 * 1024,
      allowInternalHosts: true,
    });
    const slow = await cache.mediaIdFor(`${originBase}/slow.png`).catch((err: unknown) => err);
    expect(slow).toMatchObject({ retryable: true, message: expect.stringMatching(/no answer within 200 ms/) });
    const huge = await cache.mediaIdFor(`${originBase}/huge.png`).catch((err: unknown) => err);
    expect(huge).toMatchObject({ retryable: false, message: expect.stringMatching(/larger than 16384 bytes/) });
  });

  it('refuses a GIF from a URL before WeCom would', async () => {
    expect(await media.cache.mediaIdFor(`${originBase}/anim.gif`).catch((err: unknown) => err)).toMatchObject({ retryable: false, message: expect.stringMatching(/GIF image: WeCom sends only PNG and JPEG/) });
  });

  it('never fetches an image URL on loopback, a private network or link-local, also not through a redirect', async () => {
    const cache = new WecomMediaCache({ models: media.models, upload: () => expect.fail('nothing should be uploaded'), publicUrl: PUBLIC_URL });
    const refused = (url: string) => cache.mediaIdFor(url).catch((err: unknown) => err);
    expect(await refused(`${originBase}/pic.png`)).toMatchObject({ retryable: false, message: expect.stringMatching(/127\.0\.0\.1 is an internal address/) });
    for (const url of ['http://localhost/a.png', 'http://10.1.2.3/a.png', 'http://192.168.1.1/a.png', 'http://169.254.169.254/latest', 'http://[::1]/a.png', 'http://[::ffff:127.0.0.1]/a.png']) {
      expect(await refused(url), url).toMatchObject({ message: expect.stringMatching(/internal address/) });
    }
    // A public host that redirects inward: each hop is checked, so the loopback one is never asked.
    const asked: string[] = [];
    const redirecting = new WecomMediaCache({
      models: media.models,
      upload: () => expect.fail('nothing should be uploaded'),
      publicUrl: PUBLIC_URL,
      fetch: async (input) => {
        asked.push(String(input));
        return new Response(null, { status: 302, headers: { location: 'http://127.0.0.1:27017/' } });
      },
    });
    expect(await redirecting.mediaIdFor('http://93.184.216.34/a.png').catch((err: unknown) => err)).toMatchObject({ message: expect.stringMatching(/127\.0\.0\.1 is an internal address/) });
    expect(asked).toEqual(['http://93.184.216.34/a.png']);
  });
});
