/** A work thread (see index.ts): one worker instance, configured by its parent, stopped by its message. */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/index.ts';
import { startSystem } from '../main.ts';
import { createLogger } from '../observability/index.ts';
import type { ToParent, ToThread } from './index.ts';

const port = parentPort!;
const send = (message: ToParent) => port.postMessage(message);
const config = workerData as Config;
const logger = createLogger({ level: config.logLevel }).child({ instance: config.instance.name });

try {
  const system = await startSystem(config, logger);
  port.on('message', (message: ToThread) => {
    if (message.type === 'kick') return system.wecom.worker.kick();
    (message.type === 'kill' ? system.kill() : system.stop()).then(
      () => send({ type: 'stopped' }),
      (err: unknown) => {
        logger.error({ err }, 'work thread did not stop cleanly');
        send({ type: 'stopped' });
      },
    );
  });
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
}
