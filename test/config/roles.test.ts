import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/src/config/index.ts';
import { rolePlan } from '../../server/src/roles.ts';

describe('ROLE and the instance settings', () => {
  it('defaults to all, with a 30 s lease and a name of host and pid', () => {
    const config = loadConfig({});
    expect(config.role).toBe('all');
    expect(config.instance.leaseMs).toBe(30_000);
    expect(config.instance.name).toMatch(new RegExp(`-${process.pid}$`));
    expect(config.workThreads).toBe(0);
    expect(rolePlan('all')).toEqual({ servesApp: true, runsWork: true });
  });

  it('reads web and worker, and what each runs', () => {
    expect(loadConfig({ ROLE: 'web', INSTANCE_NAME: 'web-1', LEASE_MS: '5000' })).toMatchObject({ role: 'web', instance: { name: 'web-1', leaseMs: 5_000 } });
    expect(rolePlan('web')).toEqual({ servesApp: true, runsWork: false });
    expect(rolePlan('worker')).toEqual({ servesApp: false, runsWork: true });
  });

  it('refuses an unknown role and a lease too short to renew, saying what is allowed', () => {
    expect(() => loadConfig({ ROLE: 'bot' })).toThrow(ConfigError);
    expect(() => loadConfig({ ROLE: 'bot' })).toThrow(/ROLE: must be all .* web .* or worker/);
    expect(() => loadConfig({ LEASE_MS: '100' })).toThrow(/LEASE_MS: must be at least 300 ms/);
    expect(loadConfig({ WORK_THREADS: '2' }).workThreads).toBe(2);
    expect(() => loadConfig({ WORK_THREADS: '9' })).toThrow(/WORK_THREADS: must be at most 8/);
    expect(() => loadConfig({ WORK_THREADS: 'many' })).toThrow(/WORK_THREADS: must be a number of threads/);
  });
});
