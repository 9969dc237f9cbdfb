/**
 * `npm run sync`: a full resync from WeCom — corp tags, every rep's customers, every customer group —
 * into the store, with a progress bar. Idempotent: rerun it whenever the pool may have drifted.
 * In demo mode it syncs the demo corp of the WeCom simulator.
 */
import cliProgress from 'cli-progress';
import { readProcessConfig } from '../server/src/config/index.ts';
import { ContactPool, registerContactModels } from '../server/src/contacts/index.ts';
import { connectWecom } from '../server/src/main.ts';
import { createLogger } from '../server/src/observability/index.ts';
import { openStore } from '../server/src/store/index.ts';
import { syncFromWecom, type SyncPhase, type SyncProgress } from '../server/src/wecom/index.ts';

const LABELS: Record<SyncPhase, string> = { tags: 'Corp tags', contacts: 'Customers', groups: 'Groups' };

function progressBar() {
  const bars = new cliProgress.MultiBar(
    { hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const open = new Map<SyncPhase, cliProgress.SingleBar>();
  return {
    update({ phase, done, total }: SyncProgress) {
      let bar = open.get(phase);
      if (!bar) {
        bar = bars.create(total ?? 0, 0, {}, { format: ` ${LABELS[phase].padEnd(9)} |{bar}| {value}/{total}` });
        open.set(phase, bar);
      }
      // Customers arrive page by page: the total grows with them until the last page.
      bar.setTotal(total ?? Math.max(done, 1));
      bar.update(done);
    },
    stop: () => bars.stop(),
  };
}

const config = readProcessConfig();
const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
const store = await openStore(config.store, logger).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(
    `Cannot open the store: ${message}\n` +
      (config.store.kind === 'embedded'
        ? 'If the server is running on this DATA_DIR, stop it first, or run the store on its own (npm run mongo:embedded) and set MONGODB_URI for both.\n'
        : ''),
  );
  process.exit(1);
});
const { simulator, client } = await connectWecom(config, logger);
const models = registerContactModels(store.connection);
await Promise.all(Object.values(models).map((m) => m.init()));

const bar = progressBar();
try {
  const started = performance.now();
  const summary = await syncFromWecom(client, new ContactPool(models), (p) => bar.update(p));
  bar.stop();
  console.log(
    `\nSynced from ${simulator ? 'the demo WeCom simulator' : 'WeCom'} in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
      `${summary.reps} reps, ${summary.contacts} customers (${summary.relations} rep relations), ${summary.tags} tags, ${summary.groups} groups.`,
  );
  for (const failed of summary.failedGroups) console.warn(`  group ${failed.chatId} skipped: ${failed.error}`);
} catch (err) {
  bar.stop();
  console.error(`\nSync failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await simulator?.close();
  await store.close();
}
