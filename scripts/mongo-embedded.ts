/**
 * Standalone embedded MongoDB for dev machines without mongod:
 *   npm run mongo:embedded -- --port 27017 --dbpath ./data/db
 * Prints the URI once ready; SIGINT/SIGTERM close it cleanly (final snapshot included).
 */
import { parseArgs } from 'node:util';
import { startEmbeddedMongo } from '../server/src/store/embedded/index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '27017' },
    dbpath: { type: 'string' },
    fsync: { type: 'string', default: 'batch' },
    quiet: { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
const fsync = values.fsync;
if (fsync !== 'always' && fsync !== 'batch' && fsync !== 'never') throw new Error(`invalid --fsync ${fsync}`);

const mongo = await startEmbeddedMongo({
  host: '127.0.0.1',
  port,
  dbPath: values.dbpath ?? null,
  fsync,
  log: (level, msg, fields) => {
    if (values.quiet && level === 'info') return;
    process.stderr.write(`${new Date().toISOString()} ${level} ${msg}${fields ? ' ' + JSON.stringify(fields) : ''}\n`);
  },
});
process.stdout.write(`${mongo.uri}\n`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`${signal}: closing\n`);
  mongo.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`close failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
