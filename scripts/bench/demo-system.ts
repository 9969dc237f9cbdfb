import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/src/config/index.ts';
import { startSystem, type System } from '../../server/src/main.ts';
import { createLogger } from '../../server/src/observability/index.ts';

/**
 * The whole server in demo mode, quiet, on a loopback port and a temp DATA_DIR that `stop` removes.
 * WeCom's own per-API limit (1,000/min) would cap pipeline benches at ~17 events/s, so it is
 * lifted here: the benches measure this server, not WeCom's quota.
 */
export async function startBenchSystem(env: Record<string, string> = {}): Promise<System> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'scrm-bench-'));
  const system = await startSystem(
    loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', WECOM_RATE_LIMIT_PER_MINUTE: '1000000', ...env }),
    createLogger({ level: 'silent' }),
  );
  await system.ready;
  return {
    ...system,
    async stop() {
      await system.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
