import { Worker } from 'node:worker_threads';
import type { EmbeddedMongo, EmbeddedMongoOptions } from './index.ts';

type Status = ReturnType<EmbeddedMongo['status']>;

export type ToHost =
  | { type: 'ready'; uri: string; port: number }
  | { type: 'failed'; error: string }
  | { type: 'status'; status: Status }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> }
  | { type: 'closed'; error?: string };

const YOUNG_GENERATION_MB = 64;

/**
 * The embedded server in a worker thread of this process: the application and the store each get a
 * core of their own instead of sharing one event loop. Same files, same guarantees, same URI contract.
 */
export function startEmbeddedMongoThread(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const { log, ...data } = options;
  // The thread runs the TypeScript sources through tsx's API, whatever loaded this process (tsx,
  // vitest...): a loader passed in a worker's execArgv does not apply to its entry module on Node 20.
  const entry = new URL('./thread-entry.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;
  // A bulk insert keeps every document it touches (index entries, records), so with the default young
  // generation most of a batch is copied once or twice by scavenges before it is promoted anyway.
  const worker = new Worker(bootstrap, { eval: true, workerData: data, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
  let status: Status = { connections: 0, collections: 0, documents: 0 };
  let onClosed: ((error?: string) => void) | undefined;

  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`embedded MongoDB thread exited (${code}) before it was ready`)));
    worker.on('message', (message: ToHost) => {
      switch (message.type) {
        case 'log':
          log?.(message.level, message.msg, message.fields);
          return;
        case 'status':
          status = message.status;
          return;
        case 'failed':
          void worker.terminate();
          reject(new Error(message.error));
          return;
        case 'closed':
          onClosed?.(message.error);
          return;
        case 'ready': {
          worker.removeAllListeners('exit');
          worker.on('exit', (code) => {
            if (!onClosed) log?.('error', 'embedded MongoDB thread stopped unexpectedly', { code });
          });
          let closing: Promise<void> | undefined;
          resolve({
            uri: message.uri,
            port: message.port,
            status: () => status,
            close: () => {
              closing ??= new Promise<void>((done, fail) => {
                onClosed = (error) => {
                  void worker.terminate().then(() => (error ? fail(new Error(error)) : done()));
                };
                worker.postMessage({ type: 'close' });
              });
              return closing;
            },
          });
        }
      }
    });
  });
}
