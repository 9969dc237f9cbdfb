import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/src/config/index.ts';
import { startSystem, type System, type SystemOptions } from '../../server/src/main.ts';
import { createLogger } from '../../server/src/observability/index.ts';

export interface DemoSystem {
  /** The running system (a new one after `restart`). */
  readonly system: System;
  /** Stops it and starts it again on the same data, as a server restart does. */
  restart(): Promise<System>;
  dispose(): Promise<void>;
}

/** The whole server in demo mode on loopback, as `npm start` runs it, with its data in a temp dir; demo data in place. */
export async function startDemoSystem(tag: string, options: SystemOptions = {}, env: Record<string, string> = {}): Promise<DemoSystem> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `scrm-${tag}-`));
  const start = async () => {
    const started = await startSystem(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ...env }), createLogger({ level: 'silent' }), options);
    await started.ready;
    return started;
  };
  let system: System | undefined;
  try {
    system = await start();
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    get system() {
      return system!;
    },
    async restart() {
      await system?.stop();
      system = undefined;
      system = await start();
      return system;
    },
    async dispose() {
      await system?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
