/**
 * `npm run bench -- campaign`: the campaign-day figures of issue 15 side by side from one run —
 * the welcome spike (simulator and instant WeCom), acknowledgement against bare Koa, processing,
 * planning and dispatch at 100,000 contacts, and analytics' first answers — each bench printing its
 * own table first, then one summary with the machine line.
 */
import { pathToFileURL } from 'node:url';
import { machineLine } from './machine.ts';

type Bench = { main: () => Promise<Record<string, string> | void> };

export async function main(): Promise<void> {
  const summary: Record<string, string> = {};
  for (const name of ['welcome', 'callbacks', 'sop', 'analytics']) {
    const bench = (await import(`./${name}.ts`)) as Bench;
    Object.assign(summary, (await bench.main()) ?? {});
  }
  console.log(`\nCampaign day, side by side — ${machineLine()}`);
  console.table(Object.entries(summary).map(([measure, result]) => ({ measure, result })));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
