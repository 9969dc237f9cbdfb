/**
 * Embedded MongoDB-compatible server: speaks the wire protocol on loopback so mongoose connects with a
 * plain mongodb:// URI. Self-contained: imports only node builtins, bson and mingo.
 */
import { Engine } from './engine.ts';
import type { LogFn } from './engine.ts';
import { createPersistence } from './persistence/index.ts';
import { WireServer } from './server.ts';
import { startTtlMonitor } from './ttl.ts';

export interface EmbeddedMongoOptions {
  host?: string;
  port?: number;
  dbPath?: string | null;
  fsync?: 'always' | 'batch' | 'never';
  log?: LogFn;
  /** Allows binding a non-loopback host; there is no authentication, so keep this off. */
  allowRemote?: boolean;
}

export interface EmbeddedMongo {
  readonly uri: string;
  readonly port: number;
  status(): { connections: number; collections: number; documents: number; recovered?: { snapshotDocs: number; journalOps: number; droppedTailBytes: number } };
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startEmbeddedMongo(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && !options.allowRemote) throw new Error(`refusing to bind embedded MongoDB to non-loopback host ${host} (set allowRemote)`);
  const log: LogFn = options.log ?? (() => undefined);
  const persistence = options.dbPath ? createPersistence({ dir: options.dbPath, fsync: options.fsync ?? 'batch' }) : null;
  const engine = new Engine(persistence, log);
  await engine.recover();
  const server = new WireServer(engine, log);
  let port: number;
  try {
    port = await server.listen(host, options.port ?? 0);
  } catch (err) {
    await engine.close();
    throw err;
  }
  const stopTtl = startTtlMonitor(engine, log);
  const uriHost = host.includes(':') ? `[${host}]` : host;
  log('info', 'embedded MongoDB listening', { host, port, dbPath: options.dbPath ?? null });
  let closing: Promise<void> | undefined;
  return {
    uri: `mongodb://${uriHost}:${port}`,
    port,
    status: () => ({
      connections: server.connections,
      collections: engine.collectionCount(),
      documents: engine.documentCount(),
      ...(engine.recovered ? { recovered: engine.recovered } : {}),
    }),
    close: () => {
      closing ??= (async () => {
        stopTtl();
        await server.close();
        await engine.close();
      })();
      return closing;
    },
  };
}
export { startEmbeddedMongoThread } from './thread-host.ts';
