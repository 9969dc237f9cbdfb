/**
 * The campaign-day spike (issue 15): add_external_contact callbacks with welcome codes offered at a
 * steady rate (default 200/s for 10 s) to one instance, WeCom's rate limit lifted, from a process
 * of their own (scripts/bench/lib/paced-offers.ts). Twice: with the demo's simulator as WeCom (in
 * the server's process, as `npm start` runs it) and with a plain WeCom in the offering process that
 * answers at once. For each code: the time from its callback to its send_welcome_msg; the share
 * inside WeCom's 20 s window, how many went out twice, how many callbacks were not answered 200.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { events, randomCorp, signCallback } from '../../server/src/wecom-simulator/index.ts';
import { startBenchSystem } from './demo-system.ts';
import type { FromLoad, ToLoad } from './lib/paced-offers.ts';
import { machineLine, percentile } from './machine.ts';

const RATE = Number(process.env.BENCH_WELCOME_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_WELCOME_SECONDS ?? 10);
/** Worker instances in threads of the one instance (WORK_THREADS), so processing uses both cores. */
const WORK_THREADS = Number(process.env.BENCH_WELCOME_WORK_THREADS ?? 1);
const WINDOW_MS = 20_000;
const REPS = ['zhangwei', 'lina', 'wangfang', 'liuyang'];
/** Time allowed for signing one offer ahead of the run (generous: a busy machine is slower). */
const PREPARE_MS_PER_OFFER = 2;
const SETTLE_MS = 5_000;

type Offer = { code: string; url: string; body: string };

/** The offering process and a typed request/answer over its IPC channel. */
function loadProcess() {
  const child: ChildProcess = fork(fileURLToPath(new URL('./lib/paced-offers.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const ask = <T extends FromLoad['type']>(message: ToLoad, answer: T) =>
    new Promise<Extract<FromLoad, { type: T }>>((resolve) => {
      const on = (m: FromLoad) => {
        if (m.type !== answer) return;
        child.off('message', on);
        resolve(m as Extract<FromLoad, { type: T }>);
      };
      child.on('message', on);
      child.send(message);
    });
  return { ask, stop: () => child.kill() };
}

async function measureWelcomes(wecom: 'simulator' | 'instant') {
  const load = loadProcess();
  const corp = randomCorp();
  const instant = wecom === 'instant' ? await load.ask({ type: 'instant-wecom' }, 'instant-wecom') : null;
  const system = await startBenchSystem({
    WORK_THREADS: String(WORK_THREADS),
    ...(instant
      ? { WECOM_CORP_ID: corp.corpId, WECOM_AGENT_ID: String(corp.agentId), WECOM_SECRET: corp.secret, WECOM_TOKEN: corp.token, WECOM_ENCODING_AES_KEY: corp.encodingAesKey, WECOM_API_BASE: instant.apiBase, ADMIN_TOKEN: randomBytes(18).toString('base64url'), SESSION_SECRET: randomBytes(32).toString('base64url') }
      : {}),
  });
  try {
    // A spike meets a running server, not one still warming its analytics and customer index.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const sim = system.simulator;
    const total = RATE * SECONDS;
    // Signed up front so the offered rate is not paced by encryption, each for the moment it is
    // planned to go: its CreateTime and (on the simulator) its code's 20 s run from then, as in WeCom.
    const startAt = Date.now() + PREPARE_MS_PER_OFFER * total + 1_000;
    const offers: Offer[] = Array.from({ length: total }, (_, i) => {
      const userid = REPS[i % REPS.length]!;
      const at = startAt + (i * 1000) / RATE;
      const scan = sim
        ? sim.scanChannelQr({ customer: { name: `峰值客户${i}` }, userid, state: 'douyin_618', at })
        : { welcomeCode: `code-${i}`, event: events.addExternalContact({ userid, externalUserid: `wm-${userid}-${i}`, state: 'douyin_618', welcomeCode: `code-${i}` }) };
      const timestamp = Math.floor(at / 1000);
      const signed = sim ? sim.signCallback(scan.event, { timestamp }) : signCallback(corp, scan.event, timestamp);
      return { code: scan.welcomeCode!, url: `${system.url}/wecom/callback?${new URLSearchParams({ ...signed.query })}`, body: signed.envelope };
    });
    sim?.resetCalls();
    const { offeredAt: times, statuses } = await load.ask({ type: 'offer', rate: RATE, startAt, offers: offers.map(({ url, body }) => ({ url, body })) }, 'offered');
    const offeredAt = new Map(offers.map((o, i) => [o.code, times[i]!]));
    // Every code is past its window WINDOW_MS after the last offer: later sends cannot count anyway.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, times.at(-1)! + WINDOW_MS + 1_000 - Date.now())));
    const sends = sim
      ? sim.calls('/externalcontact/send_welcome_msg').map((call) => ({ code: (call.body as { welcome_code: string }).welcome_code, at: call.at }))
      : (await load.ask({ type: 'welcomes' }, 'welcomes')).sends;
    return summarise(wecom, total, statuses, offeredAt, sends);
  } finally {
    load.stop();
    await system.stop();
  }
}

function summarise(wecom: string, total: number, statuses: number[], offeredAt: Map<string, number>, sends: Array<{ code: string; at: number }>) {
  const firstSend = new Map<string, number>();
  let twice = 0;
  for (const { code, at } of sends) {
    if (firstSend.has(code)) twice++;
    else firstSend.set(code, at);
  }
  const delays = [...firstSend].map(([code, at]) => at - offeredAt.get(code)!).sort((a, b) => a - b);
  const inside = delays.filter((d) => d <= WINDOW_MS).length;
  return {
    WeCom: wecom === 'simulator' ? 'simulator (in-process)' : 'instant fake (own process)',
    'answered 200': statuses.filter((s) => s === 200).length,
    'welcomes ≤ 20 s': `${inside}/${total} (${((inside / total) * 100).toFixed(1)} %)`,
    'p50 s': (percentile(delays, 50) / 1000).toFixed(2),
    'p99 s': (percentile(delays, 99) / 1000).toFixed(2),
    'sent late or never': total - inside,
    'sent twice': twice,
  };
}

/** Prints the table; resolves the headline figures for the campaign summary. */
export async function main(): Promise<Record<string, string>> {
  const rows = [await measureWelcomes('simulator'), await measureWelcomes('instant')];
  console.log(`\nWelcome lane — ${machineLine()}`);
  console.log(`${RATE * SECONDS} add_external_contact callbacks at ${RATE}/s for ${SECONDS} s, one instance (WORK_THREADS=${WORK_THREADS}), WeCom rate limit lifted`);
  console.table(rows);
  return Object.fromEntries(
    rows.map((r) => [`welcomes ≤ 20 s at ${RATE}/s for ${SECONDS} s, ${r.WeCom}`, `${r['welcomes ≤ 20 s']}, p99 ${r['p99 s']} s, ${r['sent twice']} twice, ${r['answered 200']} answered 200`]),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
