/**
 * The campaign-day spike (issue 15): add_external_contact callbacks with welcome codes offered at a
 * steady rate (default 200/s for 10 s) to one instance in demo mode, WeCom's rate limit lifted.
 * For each code: the time from its callback to its send_welcome_msg on the simulator; the share
 * inside WeCom's 20 s window, how many went out twice, and how many callbacks were not answered 200.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startBenchSystem } from './demo-system.ts';
import { machineLine } from './machine.ts';

const RATE = Number(process.env.BENCH_WELCOME_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_WELCOME_SECONDS ?? 10);
const WINDOW_MS = 20_000;
/** Worker instances in threads of the one instance (WORK_THREADS), so processing uses both cores. */
const WORK_THREADS = Number(process.env.BENCH_WELCOME_WORK_THREADS ?? 1);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Offers the callbacks from a separate process (scripts/bench/lib/paced-offers.ts), as WeCom's servers would. */
async function offerPaced(offers: Array<{ url: string; body: string }>, rate: number): Promise<{ offeredAt: number[]; statuses: number[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scrm-offers-'));
  try {
    const file = path.join(dir, 'offers.json');
    await writeFile(file, JSON.stringify({ rate, offers: offers.map(({ url, body }) => ({ url, body })) }));
    const script = fileURLToPath(new URL('./lib/paced-offers.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, file], { maxBuffer: 64 * 2 ** 20 });
    return JSON.parse(stdout) as { offeredAt: number[]; statuses: number[] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function main(): Promise<void> {
  const system = await startBenchSystem({ WORK_THREADS: String(WORK_THREADS) });
  const sim = system.simulator!;
  try {
    const reps = ['zhangwei', 'lina', 'wangfang', 'liuyang'];
    const total = RATE * SECONDS;
    // Signed up front so the offered rate is not paced by our own encryption.
    const offers = Array.from({ length: total }, (_, i) => {
      const scan = sim.scanChannelQr({ customer: { name: `峰值客户${i}` }, userid: reps[i % reps.length]!, state: 'douyin_618' });
      const signed = sim.signCallback(scan.event);
      return { code: scan.welcomeCode!, url: `${system.url}/wecom/callback?${new URLSearchParams({ ...signed.query })}`, body: signed.envelope };
    });
    sim.resetCalls();

    const { offeredAt: times, statuses } = await offerPaced(offers, RATE);
    const offeredAt = new Map(offers.map((o, i) => [o.code, times[i]!]));
    // Every code is past its window WINDOW_MS after the last offer: later sends cannot count anyway.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, times.at(-1)! + WINDOW_MS + 1_000 - Date.now())));

    const firstSend = new Map<string, number>();
    let twice = 0;
    for (const call of sim.calls('/externalcontact/send_welcome_msg')) {
      const code = (call.body as { welcome_code: string }).welcome_code;
      if (firstSend.has(code)) twice++;
      else firstSend.set(code, call.at);
    }
    const delays = [...firstSend].map(([code, at]) => at - offeredAt.get(code)!).sort((a, b) => a - b);
    const inside = delays.filter((d) => d <= WINDOW_MS).length;
    console.log(`\nWelcome lane — ${machineLine()}`);
    console.log(`${total} add_external_contact callbacks at ${RATE}/s for ${SECONDS} s, one instance (WORK_THREADS=${WORK_THREADS}), WeCom rate limit lifted, simulator as WeCom`);
    console.table([
      {
        'answered 200': statuses.filter((s) => s === 200).length,
        'welcomes ≤ 20 s': `${inside}/${total} (${((inside / total) * 100).toFixed(1)} %)`,
        'p50 s': (percentile(delays, 50) / 1000).toFixed(2),
        'p99 s': (percentile(delays, 99) / 1000).toFixed(2),
        'sent late or never': total - inside,
        'sent twice': twice,
      },
    ]);
  } finally {
    await system.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
