import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authModule } from '../../server/src/auth/index.ts';
import { requireAdmin, requireRep, Sessions } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { createWecomClient } from '../../server/src/wecom/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { serveModules, type ServedModules } from '../support/http.ts';

const ADMIN_TOKEN = 'admin-token-0123456789';
const logger = createLogger({ level: 'silent' });
let sim: WecomSimulator;
let server: ServedModules;
let base: string;

beforeAll(async () => {
  sim = await startWecomSimulator({ seed: 'demo' });
  const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger });
  const sessions = new Sessions({ ttlMs: 3_600_000 });
  server = await serveModules(
    [
      authModule({
        sessions,
        client,
        corp: { corpId: sim.corp.corpId, agentId: String(sim.corp.agentId), oauthBase: sim.oauthBase },
        publicUrl: null,
        adminToken: ADMIN_TOKEN,
        adminUserIds: ['lina'],
        demoReps: null,
        logger,
      }),
      {
        name: 'probe',
        mount(router) {
          router.get('/api/rep-only', requireRep(sessions), (ctx) => (ctx.body = { rep: ctx.state.repId }));
          router.get('/api/admin/probe', requireAdmin(ADMIN_TOKEN, sessions), (ctx) => (ctx.body = { admin: ctx.state.adminId }));
        },
      },
    ],
    { cookieKeys: ['test-session-secret-0123456789-abcdef'] },
  );
  base = server.base;
});
afterAll(async () => {
  await server.close();
  await sim.close();
});

/** A tiny cookie jar: the sign-in is a redirect chain across two origins, as in WeCom. */
class Browser {
  cookies = new Map<string, string>();
  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: this.header() } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = pair!.split('=');
      if (value) this.cookies.set(name!, value);
      else this.cookies.delete(name!);
    }
    return res;
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  /** Follows WeCom's OAuth redirect as the given rep and returns the final answer from our server. */
  async signIn(as: 'rep' | 'admin', userid: string): Promise<Response> {
    const start = await this.get(`${base}/auth/wecom?as=${as}`);
    const authorize = new URL(start.headers.get('location')!.replace(/#wechat_redirect$/, ''));
    expect(authorize.searchParams.get('scope')).toBe('snsapi_base');
    authorize.searchParams.set('sim_userid', userid);
    const back = await fetch(authorize, { redirect: 'manual' });
    return this.get(back.headers.get('location')!);
  }
}

describe('sign-in', () => {
  it('signs a rep in through WeCom OAuth into a signed httpOnly cookie', async () => {
    const browser = new Browser();
    expect((await browser.get(`${base}/api/rep-only`)).status).toBe(401);
    const done = await browser.signIn('rep', 'wangfang');
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/sidebar/');
    expect(done.headers.getSetCookie().find((c) => c.startsWith('scrm_rep='))).toMatch(/httponly/i);
    expect(await (await browser.get(`${base}/api/rep-only`)).json()).toEqual({ rep: 'wangfang' });
  });

  it('uses each code once and refuses a callback whose state is not this browser', async () => {
    const browser = new Browser();
    const start = await browser.get(`${base}/auth/wecom?as=rep`);
    const authorize = new URL(start.headers.get('location')!.replace(/#wechat_redirect$/, ''));
    const back = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!);
    const stranger = new Browser();
    expect((await stranger.get(back.toString())).status).toBe(400);
    expect((await browser.get(back.toString())).status).toBe(302);
    const again = new Browser();
    again.cookies = new Map(browser.cookies);
    const replay = new URL(back);
    replay.searchParams.set('state', new URL((await again.get(`${base}/auth/wecom?as=rep`)).headers.get('location')!.replace(/#.*/, '')).searchParams.get('state')!);
    expect((await again.get(replay.toString())).status).toBeGreaterThanOrEqual(400);
  });

  it('lets into the console only the admins listed, or the admin token', async () => {
    const rep = new Browser();
    expect((await rep.signIn('admin', 'wangfang')).status).toBe(403);
    expect((await rep.get(`${base}/api/admin/probe`)).status).toBe(401);

    const admin = new Browser();
    expect((await admin.signIn('admin', 'lina')).headers.get('location')).toBe('/console/');
    expect(await (await admin.get(`${base}/api/admin/probe`)).json()).toEqual({ admin: 'lina' });

    const form = new Browser();
    const wrong = await form.get(`${base}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nope' }) });
    expect(wrong.status).toBe(403);
    const right = await form.get(`${base}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: ADMIN_TOKEN }) });
    expect(right.status).toBe(204);
    expect((await form.get(`${base}/api/admin/probe`)).status).toBe(200);
    // A rep session is not an admin session.
    const signedRep = new Browser();
    expect((await signedRep.signIn('rep', 'wangfang')).status).toBe(302);
    expect((await signedRep.get(`${base}/api/admin/probe`)).status).toBe(401);
    // A Bearer token, when sent, must be right.
    expect((await new Browser().get(`${base}/api/admin/probe`, { headers: { authorization: 'Bearer wrong-token-000000000' } })).status).toBe(403);
  });

  it('ignores a forged cookie and refuses redirects off this site', async () => {
    const forged = Buffer.from(JSON.stringify({ kind: 'rep', userId: 'zhangwei', exp: Date.now() + 60_000 })).toString('base64url');
    const res = await fetch(`${base}/api/rep-only`, { headers: { cookie: `scrm_rep=${forged}; scrm_rep.sig=AAAA` } });
    expect(res.status).toBe(401);
    const open = await fetch(`${base}/auth/wecom?next=//evil.example/`, { redirect: 'manual' });
    expect(open.status).toBe(400);
    expect(await open.json()).toMatchObject({ error: 'invalid_request', message: expect.stringContaining('next') });
  });

  it('has no demo sign-in outside demo mode', async () => {
    const res = await fetch(`${base}/auth/demo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
  });
});
