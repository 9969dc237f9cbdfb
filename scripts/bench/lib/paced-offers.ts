/**
 * The load generator of the campaign benches, run as its own process so its HTTP client does not
 * share the server's event loop (as WeCom's requests would not): reads `{ rate, offers: [{ url,
 * body }] }` as JSON from the file named by its argument, POSTs each offer at the paced rate, and
 * prints one JSON line `{ offeredAt: number[], statuses: number[] }` (wall-clock ms, HTTP status or 0).
 */
import { readFile } from 'node:fs/promises';

const input = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as { rate: number; offers: Array<{ url: string; body: string }> };
const { rate, offers } = input;
const offeredAt: number[] = [];
const answers: Array<Promise<number>> = [];
const started = Date.now();
for (const [i, offer] of offers.entries()) {
  // Paced against the start, so a slow tick catches up instead of stretching the run.
  const due = started + (i * 1000) / rate;
  if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
  offeredAt.push(Date.now());
  answers.push(
    fetch(offer.url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: offer.body }).then(
      async (r) => (await r.arrayBuffer(), r.status),
      () => 0,
    ),
  );
}
process.stdout.write(`${JSON.stringify({ offeredAt, statuses: await Promise.all(answers) })}\n`);
