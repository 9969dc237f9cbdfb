import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Importer, type ImportProgress } from '../../server/src/import/index.ts';
import { createLogger } from '../../server/src/observability/index.ts';
import { startAdminHarness, TIME_ZONE, type AdminHarness } from './harness.ts';

interface Report {
  inserted: number;
  updated: number;
  rejected: Array<{ line: number; error: string }>;
}

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminHarness({ bodyLimitKb: 4 });
});
afterAll(() => h?.close());

const importOk = async (kind: string, csv: string | Buffer) => {
  const res = await h.upload(kind, csv);
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
};

const CONTACTS = [
  'external_userid,name,follow_userid,state,entered_at,added_at,removed_at',
  'wm1,张三,zhangsan,douyin,2026-03-01 09:00:00,2026-03-01 09:05:00,',
  'wm2,李四,zhangsan,,2026-03-02 10:00:00,,',
  'wm3,王五,lisi,douyin,2026-03-01 09:00:00,2026-03-01 09:00:00,2026-03-08 12:00:00',
].join('\n');

describe('POST /api/admin/import/contacts', () => {
  it('writes each contact with its relation and the analytics times in UTC, then re-imports as updates', async () => {
    expect(await importOk('contacts', CONTACTS)).toEqual({ inserted: 3, updated: 0, rejected: [] });
    const wm1 = await h.contacts.FollowRelation.findOne({ externalUserId: 'wm1' }).lean();
    // 09:00 in Shanghai is 01:00 UTC.
    expect(wm1).toMatchObject({ userId: 'zhangsan', state: 'douyin', status: 'active', enteredAt: new Date('2026-03-01T01:00:00Z'), addedAt: new Date('2026-03-01T01:05:00Z'), removedAt: null });
    expect(await h.contacts.FollowRelation.findOne({ externalUserId: 'wm2' }).lean()).toMatchObject({ status: 'pending', state: null, addedAt: null });
    expect(await h.contacts.FollowRelation.findOne({ externalUserId: 'wm3' }).lean()).toMatchObject({ status: 'lost', removedAt: new Date('2026-03-08T04:00:00Z') });
    expect(await h.contacts.Contact.findOne({ externalUserId: 'wm1' }).lean()).toMatchObject({ name: '张三', origin: 'import', enteredAt: new Date('2026-03-01T01:00:00Z') });

    expect(await importOk('contacts', CONTACTS)).toEqual({ inserted: 0, updated: 3, rejected: [] });
    expect(await h.contacts.Contact.countDocuments()).toBe(3);
    expect(await h.contacts.FollowRelation.countDocuments()).toBe(3);
  });

  it('imports the good rows and rejects the bad ones with their line in the file', async () => {
    const csv = [
      'external_userid,name,follow_userid,state,entered_at,added_at,removed_at', // line 1
      'wm10,好,zhangsan,,2026-03-01 09:00:00,,', // 2 ok
      ',缺ID,zhangsan,,2026-03-01 09:00:00,,', // 3 no external_userid
      'wm11,"多行', // 4 a quoted name spanning lines 4-5: ok
      '备注",zhangsan,,2026-03-01 09:00:00,,',
      'wm12,坏时间,zhangsan,,2026/03/01 09:00,,', // 6 bad time
      '', // 7 empty: skipped
      'wm13,倒序,zhangsan,,2026-03-02 09:00:00,2026-03-01 09:00:00,', // 8 added before entered
      'wm14,没加就删,zhangsan,,2026-03-01 09:00:00,,2026-03-05 09:00:00', // 9 removed without added
      'wm15,少列,zhangsan', // 10 wrong number of fields
      'wm16,好,lisi,,2026-03-03 09:00:00,2026-03-03 09:00:00,', // 11 ok
    ].join('\r\n');
    const report = await importOk('contacts', csv);
    expect(report.inserted).toBe(3);
    expect(report.updated).toBe(0);
    expect(report.rejected.map((r) => r.line)).toEqual([3, 6, 8, 9, 10]);
    expect(report.rejected[0]!.error).toContain('external_userid');
    expect(report.rejected[1]!.error).toMatch(/entered_at: must be a time YYYY-MM-DD HH:mm:ss/);
    expect(report.rejected[2]!.error).toContain('added_at: is before entered_at');
    expect(report.rejected[3]!.error).toContain('removed_at: needs added_at');
    expect(await h.contacts.Contact.findOne({ externalUserId: 'wm11' }).lean()).toMatchObject({ name: '多行\n备注' });
  });
});

describe('POST /api/admin/import/orders and channels', () => {
  it('records orders in fen with an order_paid timeline event, idempotent on order_id', async () => {
    const csv = 'order_id,external_userid,amount,paid_at\nA-1,wm1,199.90,2026-03-05 20:00:00\nA-2,nobody,10,2026-03-05 20:00:00\nA-3,wm1,1.234,2026-03-05 20:00:00\nA-4,wm2,0.5,2026-03-06 08:00:00\n';
    const first = await importOk('orders', csv);
    expect(first).toMatchObject({ inserted: 2, updated: 0 });
    expect(first.rejected).toEqual([
      { line: 3, error: 'external_userid: no such contact (import contacts first)' },
      { line: 4, error: expect.stringContaining('at most two decimals') },
    ]);
    expect(await h.orderModel.findOne({ orderId: 'A-1' }).lean()).toMatchObject({ externalUserId: 'wm1', amountFen: 19990, paidAt: new Date('2026-03-05T12:00:00Z') });
    expect(await h.orderModel.findOne({ orderId: 'A-4' }).lean()).toMatchObject({ amountFen: 50 });
    expect(await h.contacts.TimelineEvent.findOne({ key: 'order:A-1' }).lean()).toMatchObject({ kind: 'order_paid', externalUserId: 'wm1', at: new Date('2026-03-05T12:00:00Z') });
    expect(await h.contacts.Contact.findOne({ externalUserId: 'wm1' }).lean()).toMatchObject({ lastActivityAt: new Date('2026-03-05T12:00:00Z') });

    const corrected = await importOk('orders', 'order_id,external_userid,amount,paid_at\nA-1,wm1,209.90,2026-03-05 20:00:00\n');
    expect(corrected).toEqual({ inserted: 0, updated: 1, rejected: [] });
    expect(await h.orderModel.countDocuments({ orderId: 'A-1' })).toBe(1);
    expect(await h.orderModel.findOne({ orderId: 'A-1' }).lean()).toMatchObject({ amountFen: 20990 });
    expect(await h.contacts.TimelineEvent.countDocuments({ key: 'order:A-1' })).toBe(1);
  });

  it('upserts channels by state with their cost, in any column order, BOM and all', async () => {
    expect(await importOk('channels', '\uFEFFname,state,cost\n抖音直播,douyin,1200.5\n线下门店,store,\n')).toEqual({ inserted: 2, updated: 0, rejected: [] });
    expect(await importOk('channels', 'state,name,cost\ndouyin,抖音直播间,1300\nbad state that is much longer than thirty chars,x,1\n')).toMatchObject({ inserted: 0, updated: 1, rejected: [{ line: 3 }] });
    expect(await h.contacts.Channel.findOne({ state: 'douyin' }).lean()).toMatchObject({ name: '抖音直播间', cost: 1300 });
    expect(await h.contacts.Channel.findOne({ state: 'store' }).lean()).toMatchObject({ cost: 0 });
  });
});

describe('files the import refuses whole', () => {
  const message = async (res: Response) => ((await res.json()) as { message: string }).message;

  it('answers 400 for a missing or wrong header and for an empty file', async () => {
    const wrong = await h.upload('orders', 'id,user,amount,paid_at\n1,wm1,1,2026-03-01 00:00:00\n');
    expect(wrong.status).toBe(400);
    expect(await message(wrong)).toMatch(/line 1 must be the header order_id,external_userid,amount,paid_at; missing: order_id, external_userid; unknown: id, user/);
    const empty = await h.upload('channels', '');
    expect(empty.status).toBe(400);
    expect(await message(empty)).toContain('the file is empty');
  });

  it('answers 400 for text that is not UTF-8 (a GBK spreadsheet export)', async () => {
    const gbk = Buffer.concat([Buffer.from('state,name,cost\nx,'), Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]), Buffer.from(',1\n')]);
    const res = await h.upload('channels', gbk);
    expect(res.status).toBe(400);
    expect(await message(res)).toContain('not UTF-8');
    expect((await h.upload('channels', 'state,name,cost\n', { 'content-type': 'text/csv; charset=gbk' })).status).toBe(400);
  });

  it('answers 413 for a file over the body limit and 415 for another content type', async () => {
    const big = `state,name,cost\n${'x,y,1\n'.repeat(1_000)}`;
    const res = await h.upload('channels', big);
    expect(res.status).toBe(413);
    expect(await message(res)).toContain('larger than 4 KB');
    expect((await h.upload('channels', 'state,name,cost\n', { 'content-type': 'text/plain' })).status).toBe(415);
  });

  it('refuses unknown kinds and callers without the admin token', async () => {
    expect((await h.upload('tags', 'a\n')).status).toBe(400);
    const res = await fetch(`${h.base}/api/admin/import/channels`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'state,name,cost\n' });
    expect(res.status).toBe(401);
  });
});

describe('the importer behind npm run import', () => {
  it('reports progress batch by batch up to the number of rows', async () => {
    const importer = new Importer({ contacts: h.contacts, orders: h.orders, timeZone: TIME_ZONE }, createLogger({ level: 'silent' }));
    const rows = Array.from({ length: 1_200 }, (_, i) => `bulk_${i},批量${i},${i % 7}`);
    const progress: ImportProgress[] = [];
    const report = await importer.run('channels', Buffer.from(`state,name,cost\n${rows.join('\n')}\n`), (p) => progress.push(p));
    expect(report).toEqual({ inserted: 1_200, updated: 0, rejected: [] });
    expect(progress).toEqual([
      { done: 0, total: 1_200 },
      { done: 500, total: 1_200 },
      { done: 1_000, total: 1_200 },
      { done: 1_200, total: 1_200 },
    ]);
  });
});
