import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/src/config/index.ts';

const WECOM = {
  WECOM_CORP_ID: 'wx5823bf96d3bd56c7',
  WECOM_AGENT_ID: '1000002',
  WECOM_SECRET: 'app-secret',
  WECOM_TOKEN: 'QDG6eK',
  WECOM_ENCODING_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('starts in demo mode with the embedded store and documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.demoMode).toBe(true);
    expect(config.wecom).toBeNull();
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 3000, publicUrl: 'http://localhost:3000' });
    expect(config.timeZone).toBe('Asia/Shanghai');
    expect(config.logLevel).toBe('info');
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.store).toEqual({ kind: 'embedded', port: 0, dbPath: path.resolve('data', 'db'), fsync: 'batch', thread: true });
    expect(config.bot.puppet).toBe('wechaty-puppet-wechat4u');
    expect(config.generatedSecrets).toEqual(['ADMIN_TOKEN', 'SESSION_SECRET']);
    expect(config.sessionSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('reads the bot, sign-in and SOP settings: comma lists, bounded numbers, quiet hours or off', () => {
    const config = loadConfig({ BOT_MANAGED_ROOMS: ' VIP群 , 福利群,,', ADMIN_USERIDS: 'lina,zhangwei', BOT_RATE_PER_MINUTE: '30', BOT_JITTER_S: '0', BOT_QUIET_HOURS: 'off', SESSION_TTL_HOURS: '24' });
    expect(config.bot.managedRooms).toEqual(['VIP群', '福利群']);
    expect(config.adminUserIds).toEqual(['lina', 'zhangwei']);
    expect(config.bot.pacing).toMatchObject({ ratePerMinute: 30, jitterMs: 0, quietHours: null });
    expect(config.sessionTtlMs).toBe(24 * 3_600_000);
    const defaults = loadConfig({});
    expect(defaults.bot.managedRooms).toEqual([]);
    expect(defaults.adminUserIds).toEqual([]);
    expect(defaults.bot.pacing).toMatchObject({ ratePerMinute: 20, jitterMs: 15_000, quietHours: { start: '22:00', end: '08:00' } });
    expect(problemsOf({ BOT_RATE_PER_MINUTE: '601' }).join('\n')).toMatch(/^BOT_RATE_PER_MINUTE: /);
    expect(problemsOf({ SESSION_TTL_HOURS: '0' }).join('\n')).toMatch(/^SESSION_TTL_HOURS: /);
    expect(problemsOf({ BOT_QUIET_HOURS: '22-8' }).join('\n')).toMatch(/^BOT_QUIET_HOURS: must be HH:MM-HH:MM/);
  });

  it('refuses a port that is not a number and names the variable', () => {
    expect(problemsOf({ PORT: 'not-a-port' }).join('\n')).toMatch(/^PORT: /);
    expect(problemsOf({ PORT: '70000' })[0]).toMatch(/PORT: must be between 0 and 65535/);
  });

  it('treats blank values as unset so a copied .env.example works', () => {
    const config = loadConfig({ PORT: '', MONGODB_URI: '  ', WECOM_CORP_ID: '' });
    expect(config.http.port).toBe(3000);
    expect(config.store.kind).toBe('embedded');
    expect(config.demoMode).toBe(true);
  });

  it('uses MONGODB_URI when set and rejects a URI of another scheme', () => {
    expect(loadConfig({ MONGODB_URI: 'mongodb://db:27017/scrm' }).store).toEqual({
      kind: 'external',
      uri: 'mongodb://db:27017/scrm',
    });
    expect(problemsOf({ MONGODB_URI: 'postgres://x' })[0]).toMatch(/^MONGODB_URI: must start with mongodb:\/\//);
  });

  it('leaves demo mode only with a complete WeCom configuration', () => {
    const partial = problemsOf({ WECOM_CORP_ID: 'wx1', WECOM_SECRET: 's' });
    expect(partial).toEqual([
      expect.stringMatching(/^WECOM_AGENT_ID: required/),
      expect.stringMatching(/^WECOM_TOKEN: required/),
      expect.stringMatching(/^WECOM_ENCODING_AES_KEY: required/),
    ]);
    expect(problemsOf(WECOM)).toEqual([
      'ADMIN_TOKEN: required outside demo mode',
      'SESSION_SECRET: required outside demo mode',
    ]);
    const config = loadConfig({ ...WECOM, ADMIN_TOKEN: 'a'.repeat(16), SESSION_SECRET: 's'.repeat(32) });
    expect(config.demoMode).toBe(false);
    expect(config.wecom).toEqual({
      corpId: WECOM.WECOM_CORP_ID,
      agentId: '1000002',
      secret: 'app-secret',
      token: 'QDG6eK',
      encodingAesKey: WECOM.WECOM_ENCODING_AES_KEY,
      apiBase: 'https://qyapi.weixin.qq.com/cgi-bin',
      oauthBase: 'https://open.weixin.qq.com',
    });
    expect(config.generatedSecrets).toEqual([]);
  });

  it('validates the EncodingAESKey, the time zone and the flags', () => {
    expect(problemsOf({ WECOM_ENCODING_AES_KEY: 'short' })[0]).toMatch(/^WECOM_ENCODING_AES_KEY: must be the 43-character/);
    expect(problemsOf({ TZ_DEFAULT: 'Mars/Olympus' })[0]).toMatch(/^TZ_DEFAULT: must be an IANA time zone/);
    expect(problemsOf({ BOT_ENABLED: 'maybe' })[0]).toMatch(/^BOT_ENABLED: /);
    expect(problemsOf({ ADMIN_TOKEN: 'short' })[0]).toMatch(/^ADMIN_TOKEN: must be at least 16 characters/);
    expect(loadConfig({ BOT_ENABLED: 'off', TZ_DEFAULT: 'Europe/Berlin' })).toMatchObject({
      bot: { enabled: false },
      timeZone: 'Europe/Berlin',
    });
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ PORT: 'x', LOG_LEVEL: 'loud', PUBLIC_URL: 'ftp://x' }).map((p) => p.split(':')[0])).toEqual([
      'PORT',
      'PUBLIC_URL',
      'LOG_LEVEL',
    ]);
  });
});

describe('.env.example', () => {
  it('documents every variable the configuration reads', async () => {
    const { readFile } = await import('node:fs/promises');
    const { envSchema } = await import('../../server/src/config/index.ts');
    const example = await readFile('.env.example', 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    expect(Object.keys(envSchema.shape).filter((name) => !documented.has(name))).toEqual([]);
    // And the example as written must load.
    const values = Object.fromEntries([...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    expect(loadConfig(values).demoMode).toBe(true);
  });
});
