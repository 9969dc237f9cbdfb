import { createApp, startHttpServer, type HttpModule } from '../../server/src/http/index.ts';
import { Health, createLogger, createMetrics } from '../../server/src/observability/index.ts';

export interface ServedModules {
  /** `http://127.0.0.1:PORT` */
  base: string;
  close(): Promise<void>;
}

/** Serves HTTP modules on loopback through the real app (base middleware, errors, cookies), as main.ts does. */
export async function serveModules(modules: HttpModule[], options: { cookieKeys?: string[]; bodyLimitKb?: number } = {}): Promise<ServedModules> {
  const app = createApp({
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    health: new Health(),
    bodyLimitKb: options.bodyLimitKb ?? 64,
    modules,
    ...(options.cookieKeys ? { cookieKeys: options.cookieKeys } : {}),
  });
  const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  return { base: `http://127.0.0.1:${server.port}`, close: () => server.close(1_000) };
}
