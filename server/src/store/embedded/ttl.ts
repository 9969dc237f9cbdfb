/** TTL monitor: removes documents whose indexed date is older than expireAfterSeconds. */
import type { Engine, LogFn } from './engine.ts';
import type { DocRecord } from './record.ts';

const SWEEP_MS = 1000;

export function startTtlMonitor(engine: Engine, log: LogFn): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep(engine)
      .catch((err: unknown) => log('error', 'TTL sweep failed', { err: String(err) }))
      .finally(() => {
        running = false;
      });
  }, SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}

async function sweep(engine: Engine): Promise<void> {
  const now = Date.now();
  for (const colls of engine.dbs.values()) {
    for (const coll of colls.values()) {
      for (const ix of coll.indexes) {
        const field = ix.ttlField;
        if (field === undefined || ix.inert) continue;
        const cutoff = now - (ix.def.expireAfterSeconds ?? 0) * 1000;
        const expired = new Set<DocRecord>();
        // Dates sort after every other type but timestamps/regex, so walk the date range only.
        for (const e of ix.sorted.ascending((x) => (x.vals[0] instanceof Date ? 1 : isBeforeDates(x.vals[0]) ? -1 : 1))) {
          const v = e.vals[0];
          if (!(v instanceof Date)) break;
          if (v.getTime() > cutoff) break;
          expired.add(e.rec);
        }
        if (expired.size === 0) continue;
        await engine.write((ops) => {
          for (const rec of expired) {
            // Re-check: a write may have replaced the record while we waited for the write slot.
            if (coll.getById(rec.doc._id) !== rec) continue;
            coll.remove(rec);
            ops.push({ op: 'del', db: coll.db, coll: coll.name, id: rec.doc._id });
          }
        });
      }
    }
  }
}

const isBeforeDates = (v: unknown): boolean => !(v instanceof Date) && !(v !== null && typeof v === 'object' && ['Timestamp', 'BSONRegExp', 'MaxKey'].includes((v as { _bsontype?: string })._bsontype ?? '')) && !(v instanceof RegExp);
