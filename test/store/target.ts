/**
 * Where the store conformance suite runs: real MongoDB when MONGODB_URI is set, otherwise the
 * embedded engine. Every consumer gets its own database and its own mongoose connection so test
 * files never share state (or models) through the global mongoose singleton.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose from 'mongoose';
import type { Connection } from 'mongoose';
import type { Db } from 'mongodb';
import type { EmbeddedMongo, EmbeddedMongoOptions } from '../../server/src/store/embedded/index.ts';

export type TargetKind = 'embedded' | 'mongodb';

export interface StoreTarget {
  readonly kind: TargetKind;
  /** Server URI as given (MONGODB_URI may carry a path and options); pass it to `connect`. */
  readonly uri: string;
  /** Database this target's connection is bound to (unique per test file / per open). */
  readonly dbName: string;
  readonly conn: Connection;
  /** Native driver handle on `dbName`, for cases that must bypass mongoose casting. */
  readonly db: Db;
  /** Drops the database on real MongoDB (embedded memory stores vanish on close) and disconnects. */
  close(): Promise<void>;
}

export const targetKind: TargetKind = process.env.MONGODB_URI ? 'mongodb' : 'embedded';

/** Database names are capped at 63 bytes by MongoDB; keep the tag short. */
export function uniqueDbName(tag: string): string {
  const safeTag = tag.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 24);
  return `scrm_${safeTag}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * Imported lazily so a run against real MongoDB does not depend on the embedded engine loading
 * (and so a broken engine fails the embedded run with its own error, not an import error here).
 */
export async function startEmbedded(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const { startEmbeddedMongo } = await import('../../server/src/store/embedded/index.ts');
  return startEmbeddedMongo({ host: '127.0.0.1', port: 0, dbPath: null, ...options });
}

/**
 * Puts `dbName` into the URI's path while keeping its query. With credentials and no explicit
 * authSource the driver would authenticate against the path database, so pin it to the original.
 */
export function withDbName(uri: string, dbName: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/)([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/.exec(uri);
  if (!m) throw new Error(`not a mongodb:// URI: ${uri}`);
  const [, scheme = '', hosts = '', pathDb = '', query = ''] = m;
  const params = new URLSearchParams(query);
  if (hosts.includes('@') && !params.has('authSource')) params.set('authSource', pathDb || 'admin');
  const qs = params.toString();
  return `${scheme}${hosts}/${dbName}${qs ? `?${qs}` : ''}`;
}

export async function connect(uri: string, dbName: string): Promise<Connection> {
  const conn = mongoose.createConnection(withDbName(uri, dbName), {
    // Fail fast instead of mongoose's 30 s default when the server is not there.
    serverSelectionTimeoutMS: 5_000,
  });
  await conn.asPromise();
  return conn;
}

export function nativeDb(conn: Connection): Db {
  const db = conn.db;
  if (!db) throw new Error('mongoose connection has no db handle (not connected?)');
  return db;
}

/** Opens the suite's target: real MongoDB when MONGODB_URI is set, else an in-memory embedded store. */
export async function openTarget(tag: string): Promise<StoreTarget> {
  const dbName = uniqueDbName(tag);
  const externalUri = process.env.MONGODB_URI;
  if (externalUri) {
    const conn = await connect(externalUri, dbName);
    return {
      kind: 'mongodb',
      uri: externalUri,
      dbName,
      conn,
      db: nativeDb(conn),
      async close() {
        await conn.dropDatabase();
        await conn.close();
      },
    };
  }
  const server = await startEmbedded({ dbPath: null });
  const conn = await connect(server.uri, dbName);
  return {
    kind: 'embedded',
    uri: server.uri,
    dbName,
    conn,
    db: nativeDb(conn),
    async close() {
      await conn.close();
      await server.close();
    },
  };
}

export async function makeTempDir(tag: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `scrm-${tag}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
