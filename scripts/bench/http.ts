/**
 * A bare Koa endpoint next to the real app's /healthz (which pings the store), measured in the
 * same run so the overhead of our middleware and store round trip is visible.
 */
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import Koa from 'koa';
import { startHttpServer } from '../../server/src/http/index.ts';
import { startBenchSystem } from './demo-system.ts';
import { machineLine } from './machine.ts';

const DURATION_S = 5;
const CONNECTIONS = 50;

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function measure(name: string, url: string): Promise<Figures> {
  // A short warm-up so JIT and connection set-up don't count.
  await autocannon({ url, connections: 10, duration: 1 });
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S });
  return {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

export async function main(): Promise<void> {
  const bare = new Koa();
  bare.use((ctx) => {
    ctx.body = 'ok';
  });
  const bareServer = await startHttpServer(bare, { host: '127.0.0.1', port: 0 });

  const system = await startBenchSystem();

  try {
    const rows = [
      await measure('bare Koa GET /', `http://127.0.0.1:${bareServer.port}/`),
      await measure('app GET /healthz (store ping)', `${system.url}/healthz`),
    ];
    console.log(`\nHTTP baseline — ${machineLine()}`);
    console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION_S} s, server and load generator share the machine`);
    console.table(rows.map((r) => ({ endpoint: r.name, 'req/s': r.rps, 'p50 ms': r.p50, 'p99 ms': r.p99, errors: r.errors })));
  } finally {
    await system.stop();
    await bareServer.close(1_000);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
