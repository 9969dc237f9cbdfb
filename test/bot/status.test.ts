import { describe, expect, it } from 'vitest';
import { botAdminModule, BotStatus } from '../../server/src/bot/index.ts';
import { ThrottledLog } from '../../server/src/bot/status.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { serveModules } from '../support/http.ts';

describe('bot status and watchdog', () => {
  it('is healthy while waiting for a login until the timeout, then says why; a login or a new wait resets it', async () => {
    let now = 0;
    const status = new BotStatus({ enabled: true, puppet: 'wechaty-puppet-wechat4u', loginTimeoutMs: 300_000, now: () => now });
    await status.scanned('https://login.weixin.qq.com/l/abc');
    expect(status.view()).toMatchObject({ state: 'waiting_scan', qrcodeUrl: 'https://login.weixin.qq.com/l/abc', watchdog: { healthy: true, reason: null } });
    expect(status.view().qrcodeDataUrl).toMatch(/^data:image\/png;base64,/);

    now = 300_000;
    expect(status.watchdog()).toEqual({ healthy: false, reason: 'no login for 300 s: scan the QR code in the console (机器人)' });
    expect(await status.probe().check()).toMatchObject({ ok: false, state: 'waiting_scan' });
    expect(status.probe().critical).toBe(false);

    status.loggedIn({ id: 'wxid_1', name: '小微' });
    expect(status.view()).toMatchObject({ state: 'logged_in', qrcodeUrl: null, qrcodeDataUrl: null, user: { name: '小微' }, watchdog: { healthy: true } });

    now = 900_000;
    status.loggedOut();
    expect(status.view()).toMatchObject({ state: 'logged_out', user: null, since: new Date(900_000).toISOString(), watchdog: { healthy: true } });
    now = 1_200_000;
    expect(status.watchdog().healthy).toBe(false);
  });

  it('reports a bot that could not start as unhealthy with its error', () => {
    const status = new BotStatus({ enabled: true, puppet: 'wechaty-puppet-service', loginTimeoutMs: 300_000 });
    status.failed('token not found', true);
    expect(status.view()).toMatchObject({ state: 'error', lastError: 'token not found', watchdog: { healthy: false, reason: 'bot failed: token not found' } });
  });

  it('with BOT_ENABLED=false: /api/admin/bot says disabled, healthy, with no hand-offs', async () => {
    const token = 'bot-disabled-token-0123';
    const server = await serveModules([
      botAdminModule({ status: new BotStatus({ enabled: false, puppet: 'wechaty-puppet-wechat4u', loginTimeoutMs: 1 }), handoffs: null, adminGuard: requireAdmin(token) }),
    ]);
    try {
      const get = (path: string) => fetch(`${server.base}/api/admin/bot${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(await (await get('')).json()).toMatchObject({ enabled: false, state: 'disabled', qrcodeUrl: null, user: null, watchdog: { healthy: true } });
      expect(await (await get('/handoffs')).json()).toEqual({ handoffs: [] });
      const resume = await fetch(`${server.base}/api/admin/bot/handoffs/x/resume`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(resume.status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('logs a repeating puppet error once per window, then with how many were held back', () => {
    const lines: Array<{ msg: string; repeatsHeldBack?: number }> = [];
    const destination = { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) };
    let now = 0;
    const log = new ThrottledLog(createLogger({ level: 'info', destination }), 60_000, () => now);
    for (let i = 0; i < 180; i++) {
      now = i * 333; // wechat4u when DNS fails: about three a second, for a minute
      log.warn('bot: puppet error: getaddrinfo ENOTFOUND login.wx.qq.com', {});
    }
    now = 60_000;
    log.warn('bot: puppet error: getaddrinfo ENOTFOUND login.wx.qq.com', {});
    log.warn('bot: puppet error: something else', {});
    expect(lines.map((l) => [l.msg, l.repeatsHeldBack])).toEqual([
      ['bot: puppet error: getaddrinfo ENOTFOUND login.wx.qq.com', undefined],
      ['bot: puppet error: getaddrinfo ENOTFOUND login.wx.qq.com', 179],
      ['bot: puppet error: something else', undefined],
    ]);
  });
});
