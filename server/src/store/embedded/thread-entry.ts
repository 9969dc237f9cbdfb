/** Runs the embedded server inside a worker thread; the parent talks to it through thread-host.ts. */
import { parentPort, workerData } from 'node:worker_threads';
import { startEmbeddedMongo, type EmbeddedMongoOptions } from './index.ts';
import type { ToHost } from './thread-host.ts';

const port = parentPort!;
const send = (message: ToHost) => port.postMessage(message);
const options = workerData as Omit<EmbeddedMongoOptions, 'log'>;

try {
  const mongo = await startEmbeddedMongo({
    ...options,
    log: (level, msg, fields) => send({ type: 'log', level, msg, fields: fields ?? {} }),
  });
  const report = () => send({ type: 'status', status: mongo.status() });
  report();
  // The parent's status() must answer synchronously, so the thread keeps it current.
  const timer = setInterval(report, 1_000);
  port.on('message', (message: { type: 'close' }) => {
    if (message.type !== 'close') return;
    clearInterval(timer);
    mongo.close().then(
      () => send({ type: 'closed' }),
      (err: unknown) => send({ type: 'closed', error: err instanceof Error ? err.message : String(err) }),
    );
  });
  send({ type: 'ready', uri: mongo.uri, port: mongo.port });
} catch (err) {
  send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
}
