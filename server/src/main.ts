/**
 * Composition root: parses configuration once, builds every module, wires them together and
 * owns the process lifecycle. Modules never read process.env or reach for globals.
 */
import { mkdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, type Config } from './config/index.ts';
import { createApp, startHttpServer, type HttpModule } from './http/index.ts';
import { Health, createLogger, createMetrics, type Logger } from './observability/index.ts';
import { openStore, type Store } from './store/index.ts';

export interface System {
  config: Config;
  url: string;
  store: Store;
  stop(): Promise<void>;
}

export async function startSystem(config: Config, logger: Logger): Promise<System> {
  await mkdir(config.dataDir, { recursive: true });
  const metrics = createMetrics();
  const health = new Health();

  const store = await openStore(config.store, logger);
  health.register(store.probe);

  const modules: HttpModule[] = [];
  const app = createApp({ logger, metrics, health, bodyLimitKb: config.http.bodyLimitKb, modules });

  let http;
  try {
    http = await startHttpServer(app, { host: config.http.host, port: config.http.port });
  } catch (err) {
    await store.close();
    throw err;
  }
  const url = config.http.port === http.port ? config.http.publicUrl : `http://127.0.0.1:${http.port}`;

  return {
    config,
    url,
    store,
    async stop() {
      await http.close(config.http.shutdownTimeoutMs);
      await store.close();
    },
  };
}

function announce(system: System, logger: Logger): void {
  const { config, url } = system;
  logger.info({ url, demoMode: config.demoMode, store: system.store.kind, timeZone: config.timeZone }, 'server ready');
  if (config.demoMode) {
    logger.warn('demo mode: no WECOM_* credentials set, so the WeCom simulator and demo data stand in (see README)');
  }
  const lines = [
    '',
    `  WeCom SCRM is running${config.demoMode ? ' in demo mode' : ''}.`,
    `    Health:   ${url}/healthz`,
    `    Metrics:  ${url}/metrics`,
    `    Store:    ${system.store.kind === 'embedded' ? `embedded (data in ${config.dataDir})` : 'MongoDB (MONGODB_URI)'}`,
  ];
  if (config.generatedSecrets.includes('ADMIN_TOKEN')) {
    lines.push(`    Admin token for this run: ${config.adminToken}  (set ADMIN_TOKEN to keep one)`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

async function runProcess(): Promise<void> {
  try {
    process.loadEnvFile('.env');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }

  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nSee .env.example for every variable and its default.\n`);
    process.exit(2);
  }

  const logger = createLogger({ level: config.logLevel });
  // Crash policy: a bug that escapes every handler leaves the process in an unknown state; log it and exit so the supervisor restarts us.
  const crash = (kind: string) => (err: unknown) => {
    logger.fatal({ err }, kind);
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));

  let system: System;
  try {
    system = await startSystem(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
  announce(system, logger);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs + 5_000);
    deadline.unref();
    system.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runProcess();
}
