import mongoose, { type Connection } from 'mongoose';
import type { Config } from '../config/index.ts';
import type { HealthProbe, Logger } from '../observability/index.ts';
import { startEmbeddedMongo, startEmbeddedMongoThread, type EmbeddedMongo } from './embedded/index.ts';

export { bulkWriteErrors, GroupCommit, type Settled } from './group-commit.ts';
export { UpdateBatches } from './update-batches.ts';

export interface Store {
  kind: 'embedded' | 'external';
  /** Modules register their models on this connection (never on mongoose's global default). */
  connection: Connection;
  /** What another client (a work thread of this instance) connects to: the same database. */
  uri: string;
  probe: HealthProbe;
  close(): Promise<void>;
}

const EMBEDDED_DB = 'scrm';

/**
 * Connects mongoose to MongoDB: the configured server, or the embedded MongoDB-compatible one
 * started in-process on loopback. Either way the application talks to it over the wire protocol,
 * so the code path is the production one.
 */
export async function openStore(config: Config['store'], logger: Logger): Promise<Store> {
  const log = logger.child({ module: 'store' });
  let embedded: EmbeddedMongo | null = null;
  let uri: string;
  if (config.kind === 'embedded') {
    embedded = await (config.thread ? startEmbeddedMongoThread : startEmbeddedMongo)({
      port: config.port,
      dbPath: config.dbPath,
      fsync: config.fsync,
      log: (level, msg, fields) => log[level](fields ?? {}, msg),
    });
    uri = `${embedded.uri}/${EMBEDDED_DB}`;
    log.info({ uri, dbPath: config.dbPath, thread: config.thread }, 'embedded MongoDB-compatible store started');
  } else {
    uri = config.uri;
  }

  // sanitizeFilter: user-supplied objects can never smuggle query operators into a filter.
  const connection = mongoose.createConnection(uri, { sanitizeFilter: true, serverSelectionTimeoutMS: 10_000 });
  try {
    await connection.asPromise();
  } catch (err) {
    await embedded?.close();
    throw err;
  }
  let closing = false;
  connection.on('disconnected', () => {
    if (!closing) log.warn('store connection lost');
  });
  connection.on('reconnected', () => log.info('store connection restored'));
  log.info({ kind: config.kind, db: connection.name }, 'store connected');

  return {
    kind: config.kind,
    connection,
    uri,
    probe: {
      name: 'store',
      critical: true,
      async check() {
        const db = connection.db;
        if (!db) return { ok: false, kind: config.kind, error: 'not connected' };
        const started = performance.now();
        await db.admin().ping();
        return {
          ok: true,
          kind: config.kind,
          db: connection.name,
          pingMs: Math.round((performance.now() - started) * 100) / 100,
          ...(embedded ? { embedded: embedded.status() } : {}),
        };
      },
    },
    async close() {
      closing = true;
      await connection.close();
      await embedded?.close();
    },
  };
}
