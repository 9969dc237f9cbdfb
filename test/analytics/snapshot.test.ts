import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Analytics, ANALYTICS_SNAPSHOT_LEASE, SNAPSHOT_COLLECTION, type AnalyticsOptions, type AnalyticsReport } from '../../server/src/analytics/index.ts';
import { createLeases } from '../../server/src/leases/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { startAdminHarness, TIME_ZONE, type AdminHarness } from '../import/harness.ts';

/**
 * The persisted snapshot of the analytics mirror, on the real embedded store: a second instance
 * starts from it instead of reading every row, reads only what changed after its watermark, and
 * answers exactly what a mirror read from scratch answers.
 *
 * The data set (imported through the CSV API, as an operator would) is then stamped an hour old,
 * as rows written long before the snapshot are: a delta read looks back 10 s, so rows written a
 * moment ago would be read again and hide whether the snapshot was used.
 */
const CONTACTS = 240;
const ORDERS = 720;
const MARCH = { from: new Date('2026-03-01T00:00:00+08:00'), to: new Date('2026-04-01T00:00:00+08:00') };
const YEAR = { from: new Date('2026-01-01T00:00:00+08:00'), to: new Date('2027-01-01T00:00:00+08:00') };
const logger = createLogger({ level: 'silent' });

let h: AdminHarness;
let total: number;

/** A small linear congruential generator: the same data set every run. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

const pad = (n: number) => String(n).padStart(2, '0');
/** `YYYY-MM-DD HH:mm:ss` (business clock) for a day offset and minute in 2026. */
function local(day: number, minute: number): string {
  const at = new Date(Date.UTC(2026, 0, 1) + day * 86_400_000 + minute * 60_000);
  return `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:00`;
}

function analytics(options: Partial<AnalyticsOptions> = {}): Analytics {
  return new Analytics({ contacts: h.contacts, orders: h.orderModel, sop: h.sop, tasks: h.tasks, scripts: h.scripts, timeZone: TIME_ZONE }, options);
}

/** The report without its freshness fields, for comparing two instances' answers. */
const metricsOf = ({ overall, channels }: AnalyticsReport) => ({ overall, channels });
const seriesOf = async (a: Analytics, period: { from: Date; to: Date }) => (await a.series(period)).points;

async function changedRows(since: Date): Promise<number> {
  const filter = { updatedAt: { $gte: since } };
  return (await h.contacts.FollowRelation.collection.countDocuments(filter)) + (await h.orderModel.collection.countDocuments(filter));
}

beforeAll(async () => {
  h = await startAdminHarness({ bodyLimitKb: 1024 });
  const random = seeded(7);
  let contacts = 'external_userid,name,follow_userid,state,entered_at,added_at,removed_at\n';
  for (let i = 0; i < CONTACTS; i++) {
    const day = Math.floor(random() * 150);
    const added = random() < 0.85 ? day + (random() < 0.5 ? 0 : 1) : null;
    const removed = added !== null && random() < 0.2 ? added + Math.floor(random() * 40) : null;
    const state = i % 4 === 3 ? '' : `ch${i % 4}`;
    contacts += `s${i},客户${i},zhangsan,${state},${local(day, 60)},${added === null ? '' : local(added, 90)},${removed === null ? '' : local(removed, 120)}\n`;
    // Some also have a later relation with another rep, which must not move them.
    if (i % 10 === 0) contacts += `s${i},客户${i},lisi,ch1,${local(day + 3, 60)},${local(day + 3, 60)},\n`;
  }
  let orders = 'order_id,external_userid,amount,paid_at\n';
  for (let i = 0; i < ORDERS; i++) {
    // A few buyers (s9xxx) have no relation at all: revenue, never a cohort.
    const buyer = random() < 0.03 ? `s9${i % 7}` : `s${Math.floor(random() * CONTACTS)}`;
    orders += `o${i},${buyer},${(1 + Math.floor(random() * 50_000)) / 100},${local(Math.floor(random() * 180), Math.floor(random() * 1440))}\n`;
  }
  for (const [kind, csv] of [['channels', 'state,name,cost\nch0,渠道0,1000\nch1,渠道1,0\nch2,渠道2,300\n'], ['contacts', contacts], ['orders', orders]] as const) {
    const res = await h.upload(kind, csv);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rejected: unknown[] }).rejected).toEqual([]);
  }
  const hourAgo = new Date(Date.now() - 3_600_000);
  await h.contacts.FollowRelation.collection.updateMany({}, { $set: { updatedAt: hourAgo } });
  await h.orderModel.collection.updateMany({}, { $set: { updatedAt: hourAgo } });
  total = (await h.contacts.FollowRelation.collection.countDocuments()) + (await h.orderModel.collection.countDocuments());
});

afterAll(() => h?.close());

describe('the analytics snapshot', () => {
  let first: Analytics;
  let watermark: number;
  let atSnapshot: AnalyticsReport;

  it('lets a second instance answer the same report and series from the snapshot without reading any row', async () => {
    first = analytics({ snapshotChunkBytes: 4096 });
    const report = await first.report(MARCH);
    atSnapshot = report;
    expect(first.mirrorStats).toMatchObject({ loadedFrom: 'store', rowsRead: total });
    const head = (await first.keepSnapshot())!;
    // Chunked: the data set is larger than one 4 KB chunk.
    expect(head).toMatchObject({ relations: CONTACTS + CONTACTS / 10, orders: ORDERS });
    expect(head.chunks).toBeGreaterThan(1);
    watermark = head.watermark;

    const second = analytics();
    const again = await second.report(MARCH);
    expect(second.mirrorStats).toMatchObject({ loadedFrom: 'snapshot', rowsRead: 0 });
    expect(metricsOf(again)).toEqual(metricsOf(report));
    expect(again.overall.entered).toBeGreaterThan(0);
    expect(again).toMatchObject({ asOf: expect.any(String), refreshing: false });
    expect(await seriesOf(second, MARCH)).toEqual(await seriesOf(first, MARCH));
    expect(metricsOf(await second.report(YEAR))).toEqual(metricsOf(await first.report(YEAR)));
  });

  it('picks up changes written after the snapshot, reading only those, and equals a mirror read from scratch', async () => {
    // After the snapshot, through the app's write paths: an order, a confirmed add and a new contact
    // by import, a customer deleting the rep, and an order's amount corrected.
    expect(await h.orders.record({ orderId: 'late-1', externalUserId: 's5', amountFen: 12_345, paidAt: new Date('2026-03-10T12:00:00+08:00') })).toBe('inserted');
    const reimport = await h.upload(
      'contacts',
      'external_userid,name,follow_userid,state,entered_at,added_at,removed_at\nnew-1,新客户,zhangsan,ch2,2026-03-03 10:00:00,2026-03-03 10:05:00,\n',
    );
    expect(await reimport.json()).toMatchObject({ inserted: 1, rejected: [] });
    const active = (await h.contacts.FollowRelation.collection.findOne({ status: 'active', userId: 'zhangsan', addedAt: { $gte: MARCH.from, $lt: MARCH.to } }))!;
    await h.pool.endFollow({ externalUserId: active.externalUserId, userId: 'zhangsan', status: 'lost', at: new Date('2026-03-28T10:00:00+08:00'), key: 'snapshot-test-del' });
    await h.orderModel.updateOne({ orderId: 'o1' }, { $set: { amountFen: 777 } });
    const changed = await changedRows(new Date(watermark - 10_000));
    expect(changed).toBeGreaterThanOrEqual(4);

    const second = analytics();
    // It answers at once from the snapshot's facts, saying so, and applies the changes in the background.
    const during = await second.report(MARCH);
    expect(during.refreshing).toBe(true);
    expect(during.asOf).toBe(new Date(watermark).toISOString());
    expect(metricsOf(during)).toEqual(metricsOf(atSnapshot));
    await second.caughtUp();
    const report = await second.report(MARCH);
    expect(report.refreshing).toBe(false);
    expect(second.mirrorStats.loadedFrom).toBe('snapshot');
    // The changed rows only, three times: the first request's look, the catch-up, and this
    // request's look back over the last 10 s.
    expect(second.mirrorStats.rowsRead).toBe(3 * changed);
    expect(changed).toBeLessThan(total / 10);

    const scratch = analytics({ snapshots: false });
    const expected = await scratch.report(MARCH);
    expect(scratch.mirrorStats.loadedFrom).toBe('store');
    expect(metricsOf(report)).toEqual(metricsOf(expected));
    // The changes moved the answer: the new contact, the order and the corrected amount.
    expect(report.overall.added).toBe(atSnapshot.overall.added + 1);
    expect(report.overall.revenue).not.toBe(atSnapshot.overall.revenue);
    // The first instance, which read the deltas itself, agrees too.
    expect(metricsOf(await first.report(MARCH))).toEqual(metricsOf(expected));
    expect(await seriesOf(second, MARCH)).toEqual(await seriesOf(scratch, MARCH));
    expect(metricsOf(await second.report(YEAR))).toEqual(metricsOf(await scratch.report(YEAR)));
  });

  it('answers a bulk change larger than a request reads from the facts as of asOf, then catches up', async () => {
    // No look-back, so the delta after the catch-up is exactly the bulk write.
    const instance = analytics({ inlineDeltaRows: 20, overlapMs: 0 });
    await instance.caughtUp();
    const before = await instance.report(MARCH);
    expect(before.refreshing).toBe(false);

    const bulk = Array.from({ length: 30 }, (_, i) => ({ orderId: `bulk-${i}`, externalUserId: `s${i}`, amountFen: 100, paidAt: new Date('2026-03-15T12:00:00+08:00') }));
    await h.orders.recordMany(bulk);
    const during = await instance.report(MARCH);
    expect(during.refreshing).toBe(true);
    expect(during.asOf).toBe(before.asOf);
    expect(metricsOf(during)).toEqual(metricsOf(before));

    await instance.caughtUp();
    const after = await instance.report(MARCH);
    expect(after.refreshing).toBe(false);
    expect(Date.parse(after.asOf)).toBeGreaterThan(Date.parse(before.asOf));
    expect(after.overall.revenue).toBeCloseTo(before.overall.revenue + 30, 6);
    expect(metricsOf(after)).toEqual(metricsOf(await analytics({ snapshots: false }).report(MARCH)));
  });

  it('starts a catch-up from a newer snapshot than its own watermark instead of reading what it holds', async () => {
    const behind = analytics({ inlineDeltaRows: 0 });
    await behind.caughtUp();
    const readBefore = behind.mirrorStats.rowsRead;
    // The lease holder reads the bulk write and saves; `behind` then adopts that snapshot.
    await h.orders.recordMany(Array.from({ length: 5 }, (_, i) => ({ orderId: `burst-${i}`, externalUserId: 's1', amountFen: 50, paidAt: new Date('2026-03-16T12:00:00+08:00') })));
    const holder = analytics({ inlineDeltaRows: 0 });
    expect(await holder.keepSnapshot()).not.toBeNull();
    await behind.caughtUp();
    // Only the look-back after the new watermark, not the burst nor the earlier changes again.
    expect(behind.mirrorStats.rowsRead - readBefore).toBe(await changedRows(new Date(holder.mirrorStats.savedWatermark - 10_000)));
    expect(metricsOf(await behind.report(MARCH))).toEqual(metricsOf(await holder.report(MARCH)));
  });

  it('is kept by the one instance holding lease analytics-snapshot', async () => {
    await h.orders.record({ orderId: 'lease-1', externalUserId: 's2', amountFen: 500, paidAt: new Date('2026-03-20T12:00:00+08:00') });
    const heads = h.store.connection.db!.collection(SNAPSHOT_COLLECTION);
    const before = (await heads.findOne({ _id: 'head' as never }))!;
    const instances = ['a', 'b'].map((holder) => {
      const leases = createLeases({ connection: h.store.connection, holder, leaseMs: 60_000, logger });
      const keeper = analytics({ inlineDeltaRows: 0 });
      const lease = leases.lease(ANALYTICS_SNAPSHOT_LEASE, { leads: keeper.snapshotKeeper({ isLeader: () => lease.isLeader(), logger }) });
      return { leases, lease, keeper };
    });
    for (const { leases } of instances) await leases.start();
    const [a, b] = instances;
    expect(a!.lease.view().held).toBe(true);
    expect(b!.lease.view()).toMatchObject({ held: false, holder: 'a' });
    await vi.waitFor(async () => expect((await heads.findOne({ _id: 'head' as never }))!.generation).not.toBe(before.generation), { timeout: 10_000 });
    // The other instance did no analytics work at all.
    expect(b!.keeper.mirrorStats).toMatchObject({ loadedFrom: null, rowsRead: 0 });
    for (const { leases } of instances) await leases.stop();
    const fresh = analytics({ overlapMs: 0 });
    await fresh.report(MARCH);
    expect(fresh.mirrorStats).toMatchObject({ loadedFrom: 'snapshot', rowsRead: 0 });
  });
});
