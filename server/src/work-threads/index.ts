import { Worker } from 'node:worker_threads';
import type { Config, WecomConfig } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';

export type ToParent = { type: 'ready' } | { type: 'failed'; error: string } | { type: 'stopped' };
export type ToThread = { type: 'stop' } | { type: 'kill' } | { type: 'kick' };

/** How a work thread is configured: a worker instance of the same store and WeCom, without the bot. */
export function workThreadConfig(config: Config, index: number, storeUri: string, wecom: WecomConfig): Config {
  return {
    ...config,
    role: 'worker',
    workThreads: 0,
    instance: { ...config.instance, name: `${config.instance.name}/work-${index + 1}` },
    store: { kind: 'external', uri: storeUri },
    wecom,
    // One bot login per account: the thread never competes for it.
    bot: { ...config.bot, enabled: false },
    http: { ...config.http, host: '127.0.0.1', port: 0 },
  };
}

export interface WorkThreads {
  /** New work is in the inbox: the threads look now instead of at their next poll. */
  kick(): void;
  /** Lets each thread finish what it holds and release its leases. */
  stop(): Promise<void>;
  /** As a crash would: the threads' leases are left to expire. */
  kill(): Promise<void>;
}

const STOP_TIMEOUT_MS = 15_000;

/**
 * Worker instances in threads of this process (WORK_THREADS): each runs the queue workers, ticks
 * and sweeps on its own event loop, so the loop answering callbacks is not also the only one turning
 * them into contacts and welcomes. Exactly-once stays the store's business (leases, claims, unique
 * keys), as between separate instances.
 */
export async function startWorkThreads(configs: Config[], logger: Logger): Promise<WorkThreads> {
  const log = logger.child({ module: 'work-threads' });
  const threads: Worker[] = [];
  try {
    for (const config of configs) threads.push(await startThread(config, log));
  } catch (err) {
    await Promise.all(threads.map((t) => t.terminate()));
    throw err;
  }
  log.info({ threads: threads.length }, 'work threads started');
  const end = (message: ToThread) =>
    Promise.all(
      threads.splice(0).map(async (thread) => {
        const stopped = new Promise<void>((resolve) => {
          thread.on('message', (m: ToParent) => m.type === 'stopped' && resolve());
          thread.on('exit', () => resolve());
        });
        thread.postMessage(message);
        const timer = setTimeout(() => void thread.terminate(), message.type === 'kill' ? 1_000 : STOP_TIMEOUT_MS);
        await stopped;
        clearTimeout(timer);
        await thread.terminate();
      }),
    ).then(() => undefined);
  // A burst of callbacks wakes each thread once per turn of the event loop, not once per callback.
  let kickQueued = false;
  const kick = () => {
    if (kickQueued) return;
    kickQueued = true;
    setImmediate(() => {
      kickQueued = false;
      for (const thread of threads) thread.postMessage({ type: 'kick' } satisfies ToThread);
    });
  };
  return { kick, stop: () => end({ type: 'stop' }), kill: () => end({ type: 'kill' }) };
}

function startThread(config: Config, log: Logger): Promise<Worker> {
  // As the store's thread does: tsx's API runs the TypeScript entry whatever loaded this process.
  const entry = new URL('./entry.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;
  const thread = new Worker(bootstrap, { eval: true, workerData: config });
  return new Promise((resolve, reject) => {
    const failed = (err: unknown) => reject(err instanceof Error ? err : new Error(String(err)));
    thread.once('error', failed);
    thread.once('exit', (code) => failed(new Error(`work thread exited (${code}) before it was ready`)));
    thread.once('message', (message: ToParent) => {
      thread.removeAllListeners('exit');
      thread.removeAllListeners('error');
      thread.on('error', (err) => log.error({ err, thread: config.instance.name }, 'work thread failed'));
      if (message.type === 'ready') resolve(thread);
      else failed(new Error(message.type === 'failed' ? message.error : 'work thread stopped before it was ready'));
    });
  });
}
