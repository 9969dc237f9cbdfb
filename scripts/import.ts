/**
 * `npm run import -- KIND FILE [--create-placeholder-reps]`: imports a CSV of channels, contacts, orders or leads into the store with a
 * progress bar — the same code as POST /api/admin/import/KIND (idempotent, rejected rows listed by
 * line), without the HTTP body limit. Stop the server first when it runs the embedded store on the
 * same DATA_DIR (or point both at one MONGODB_URI).
 */
import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { readProcessConfig } from '../server/src/config/index.ts';
import { registerContactModels } from '../server/src/contacts/index.ts';
import { Identity, registerIdentityModels } from '../server/src/identity/index.ts';
import { CsvFileError, IMPORT_KINDS, Importer, type ImportKind } from '../server/src/import/index.ts';
import { createLogger } from '../server/src/observability/index.ts';
import { OrderBook, registerOrderModel } from '../server/src/orders/index.ts';
import { registerSopModels } from '../server/src/sop/index.ts';
import { openStore } from '../server/src/store/index.ts';

const PLACEHOLDERS_FLAG = '--create-placeholder-reps';
const args = process.argv.slice(2);
const createPlaceholderReps = args.includes(PLACEHOLDERS_FLAG);
const [kind, file] = args.filter((a) => a !== PLACEHOLDERS_FLAG);
if (!kind || !file || !(IMPORT_KINDS as readonly string[]).includes(kind)) {
  process.stderr.write(`usage: npm run import -- ${IMPORT_KINDS.join('|')} FILE.csv [${PLACEHOLDERS_FLAG}]\n`);
  process.exit(2);
}
const bytes = await readFile(file).catch((err: unknown) => {
  process.stderr.write(`Cannot read ${file}: ${(err as Error).message}\n`);
  process.exit(1);
});

const config = readProcessConfig();
const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
const store = await openStore(config.store, logger).catch((err: unknown) => {
  process.stderr.write(
    `Cannot open the store: ${(err as Error).message}\n` +
      (config.store.kind === 'embedded'
        ? 'If the server is running on this DATA_DIR, stop it first (or use the console Import page), or run the store on its own (npm run mongo:embedded) and set MONGODB_URI for both.\n'
        : ''),
  );
  process.exit(1);
});

const contacts = registerContactModels(store.connection);
const orderModel = registerOrderModel(store.connection);
const sop = registerSopModels(store.connection);
await Promise.all([...Object.values(contacts), orderModel].map((m) => m.init()));
const identity = new Identity({ contacts, orders: orderModel, sop, models: registerIdentityModels(store.connection) });
await identity.init();
const importer = new Importer({ contacts, orders: new OrderBook({ orders: orderModel, contacts }), identity, timeZone: config.timeZone }, logger);

const bar = new cliProgress.SingleBar({ hideCursor: true, format: ` ${kind.padEnd(8)} |{bar}| {value}/{total} rows` }, cliProgress.Presets.shades_classic);
let exitCode = 0;
try {
  const started = performance.now();
  bar.start(1, 0);
  const report = await importer.run(kind as ImportKind, bytes, ({ done, total }) => {
    bar.setTotal(Math.max(total, 1));
    bar.update(done);
  }, { createPlaceholderReps });
  bar.stop();
  console.log(
    `\nImported ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
      `${report.inserted} inserted, ${report.updated} updated, ${report.rejected.length} rejected.`,
  );
  if ('matched' in report) console.log(`Leads: ${report.matched} matched, ${report.probable} probable (to review), ${report.unmatched} unmatched, ${report.unchanged} already imported.`);
  if (report.placeholderReps) console.log(`Placeholder reps: ${report.placeholderReps.join(', ')}.`);
  for (const { line, error } of report.rejected.slice(0, 50)) console.log(`  line ${line}: ${error}`);
  for (const c of (report.conflicts ?? []).slice(0, 50)) console.log(`  line ${c.line}: kept ${c.field} "${c.kept}" of ${c.externalUserId}, not "${c.offered}"`);
  if (report.rejected.length > 50) console.log(`  … and ${report.rejected.length - 50} more`);
  if (report.rejected.length > 0) exitCode = 1;
} catch (err) {
  bar.stop();
  if (!(err instanceof CsvFileError)) throw err;
  process.stderr.write(`\n${file}: ${err.message}\n`);
  exitCode = 1;
} finally {
  await store.close();
}
process.exit(exitCode);
