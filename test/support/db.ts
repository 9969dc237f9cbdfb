import { randomUUID } from 'node:crypto';
import { createLogger } from '../../server/src/observability/index.ts';
import { openStore, type Store } from '../../server/src/store/index.ts';

/**
 * A store for one test file, opened exactly as the app opens it: real MongoDB when MONGODB_URI is
 * set (in a database of its own, dropped afterwards), else a memory-only embedded store.
 */
export async function openTestStore(): Promise<Store & { dispose(): Promise<void> }> {
  const external = process.env.MONGODB_URI;
  const logger = createLogger({ level: 'silent' });
  const store = external
    ? await openStore({ kind: 'external', uri: withDatabase(external, `test_${randomUUID().slice(0, 8)}`) }, logger)
    : await openStore({ kind: 'embedded', port: 0, dbPath: null, fsync: 'never', thread: false }, logger);
  return {
    ...store,
    async dispose() {
      if (external) await store.connection.dropDatabase();
      await store.close();
    },
  };
}

function withDatabase(uri: string, db: string): string {
  const url = new URL(uri);
  url.pathname = `/${db}`;
  return url.toString();
}
