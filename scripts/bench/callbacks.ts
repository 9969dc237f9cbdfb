/**
 * Sustained signed + encrypted WeCom callbacks against the real endpoint (verify, decrypt, parse,
 * durable inbox insert, 200), next to a bare Koa endpoint taking the same requests in the same run.
 * Then how fast the inbox worker turns the stored events into contacts (externalcontact/get on the
 * simulator + upserts), which runs behind the acknowledgement.
 */
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import Koa from 'koa';
import mongoose from 'mongoose';
import { startHttpServer } from '../../server/src/http/index.ts';
import { startBenchSystem } from './demo-system.ts';
import { machineLine } from './machine.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = 20;
/** More distinct events than the run can send, so every request is a new event, never a duplicate. */
const EVENTS = Number(process.env.BENCH_EVENTS ?? 60_000);

type Prepared = { path: string; body: string };

async function load(url: string, prepared: Prepared[]) {
  let next = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        setupRequest: (request) => {
          const item = prepared[next++ % prepared.length]!;
          return { ...request, method: 'POST', path: item.path, body: item.body, headers: { 'content-type': 'text/xml' } };
        },
      },
    ],
  });
}

/** Prints the full table; resolves the headline figures for the campaign summary. */
export async function main(): Promise<Record<string, string>> {
  const system = await startBenchSystem();
  const sim = system.simulator!;
  const bare = new Koa();
  bare.use((ctx) => {
    ctx.body = '';
  });
  const bareServer = await startHttpServer(bare, { host: '127.0.0.1', port: 0 });

  try {
    const reps = ['zhangwei', 'lina', 'wangfang', 'liuyang'];
    const prepared: Prepared[] = Array.from({ length: EVENTS }, (_, i) => {
      const scan = sim.scanChannelQr({ customer: { name: `压测客户${i}` }, userid: reps[i % reps.length]!, state: 'douyin_618' });
      const signed = sim.signCallback(scan.event);
      const query = new URLSearchParams({ ...signed.query }).toString();
      return { path: `/wecom/callback?${query}`, body: signed.envelope };
    });

    const bareResult = await load(`http://127.0.0.1:${bareServer.port}`, prepared);
    const inbox = system.wecom.inbox;
    const openItems = () => inbox.countDocuments({ status: mongoose.trusted({ $in: ['pending', 'running'] }) });

    // 1. The endpoint alone: the worker is paused, so this is what acknowledging costs.
    await system.wecom.worker.stop();
    const aloneResult = await load(system.url, prepared.slice(0, EVENTS / 2));
    const backlog = await openItems();
    // 2. Draining that backlog with nothing else running: processing throughput.
    const drainStarted = Date.now();
    system.wecom.worker.start();
    const drainDeadline = Date.now() + 180_000;
    let open = backlog;
    while (open > 0 && Date.now() < drainDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      open = await openItems();
    }
    const drainS = (Date.now() - drainStarted) / 1000;
    // 3. Both at once, as in production under a burst.
    const mixedResult = await load(system.url, prepared.slice(EVENTS / 2));

    const row = (name: string, r: autocannon.Result) => ({
      endpoint: name,
      'req/s': Math.round(r.requests.average),
      'p50 ms': r.latency.p50,
      'p99 ms': r.latency.p99,
      'non-2xx+errors': r.non2xx + r.errors + r.timeouts,
    });
    console.log(`\nWeCom callbacks — ${machineLine()}`);
    console.log(`autocannon: ${CONNECTIONS} connections × ${DURATION_S} s each; every request a distinct signed+encrypted add_external_contact`);
    console.table([
      row('bare Koa (same requests)', bareResult),
      row('POST /wecom/callback (worker paused)', aloneResult),
      row('POST /wecom/callback (worker running)', mixedResult),
    ]);
    const share = aloneResult.requests.average / bareResult.requests.average;
    console.log(
      `acknowledging callbacks: ${(share * 100).toFixed(0)}% of the bare rate (goal ≥ 30%), p99 ${aloneResult.latency.p99} ms (goal < 50 ms)`,
    );
    console.log(
      `processing: ${backlog - open} of ${backlog} stored events turned into contacts in ${drainS.toFixed(1)} s ` +
        `(${Math.round((backlog - open) / drainS)} events/s: externalcontact/get + mark_tag on the simulator, pool upserts)`,
    );
    return {
      'ack: callbacks acknowledged, share of bare Koa': `${(share * 100).toFixed(0)} % (${Math.round(aloneResult.requests.average)} of ${Math.round(bareResult.requests.average)} req/s), p99 ${aloneResult.latency.p99} ms`,
      'processing: stored events turned into contacts (one event loop)': `${Math.round((backlog - open) / drainS)} events/s`,
    };
  } finally {
    await bareServer.close(1_000);
    await system.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
