/**
 * `npm run bench [-- name...]`: runs every benchmark under scripts/bench/ (each exports main()),
 * one after another so they don't compete for the two cores. Names filter by file name.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineLine } from './machine.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// campaign.ts reruns four of the others: `npm run bench -- campaign` asks for it by name.
const NOT_BENCHES = new Set(['run-all.ts', 'machine.ts', 'demo-system.ts']);
const ON_REQUEST = new Set(['campaign.ts']);

const wanted = process.argv.slice(2);
const files = (await readdir(HERE))
  .filter((f) => f.endsWith('.ts') && !NOT_BENCHES.has(f))
  .filter((f) => (wanted.length === 0 ? !ON_REQUEST.has(f) : wanted.some((w) => f.includes(w))))
  .sort();

if (files.length === 0) {
  console.error(`No benchmark matches ${wanted.join(', ')}. Available: ${(await readdir(HERE)).join(', ')}`);
  process.exit(2);
}

console.log(`Benchmarks on ${machineLine()}`);
for (const [i, file] of files.entries()) {
  console.log(`\n[${i + 1}/${files.length}] ${file}`);
  const started = performance.now();
  const bench = (await import(pathToFileURL(path.join(HERE, file)).href)) as { main?: () => Promise<void> };
  if (typeof bench.main !== 'function') throw new Error(`${file} does not export main()`);
  await bench.main();
  console.log(`(${file} took ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
