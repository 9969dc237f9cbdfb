import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mongoose from 'mongoose';
import type { ReviewItem } from '../../server/src/identity/index.ts';
import { startIdentityHarness, type IdentityHarness } from './harness.ts';

let h: IdentityHarness;
beforeAll(async () => {
  h = await startIdentityHarness();
});
afterAll(() => h?.close());

interface LeadReport {
  inserted: number;
  updated: number;
  matched: number;
  probable: number;
  unmatched: number;
  unchanged: number;
  rejected: Array<{ line: number; reason: string; error: string }>;
}

// Phones in every spelling a spreadsheet or WeCom remark may hold.
const CONTACTS = [
  'external_userid,name,follow_userid,state,entered_at,added_at,removed_at,phone,company',
  'wm1,张三,rep1,,2026-03-01 09:00:00,2026-03-01 09:05:00,,+86 138-0013-8000,',
  'wm2,李四,rep1,,2026-03-01 09:00:00,2026-03-01 09:05:00,,013900139000,',
  'wm3,王五,rep2,,2026-03-01 09:00:00,2026-03-01 09:05:00,,8613700137000,',
  'wm4,赵六,rep2,,2026-03-01 09:00:00,2026-03-01 09:05:00,,138 0013 8001,星辰科技',
  'wm5,Sun Qi,rep2,,2026-03-01 09:00:00,2026-03-01 09:05:00,,,Blue Ocean',
].join('\n');

const LEADS = [
  'lead_id,name,phone,company,title,email,source,submitted_at', // 1
  'L1,张先生,13800138000,远山贸易,采购经理,zhang@example.com,baidu,2026-03-10 10:00:00', // 2: wm1 by phone
  'L2,李四,+86 139 0013 9000,,,,douyin,2026-03-10 10:00:00', // 3: wm2 by phone
  'L3,王五,137-0013-7000,海川,CTO,,baidu,2026-03-10 10:00:00', // 4: wm3 by phone
  'L4,sun  qi,,BLUE OCEAN,销售总监,,expo,2026-03-10 10:00:00', // 5: probable (wm5)
  'L5,赵六,13500000000,星辰科技,,,expo,2026-03-10 10:00:00', // 6: probable (wm4, another phone)
  'L6,周八,15000000001,新公司,,,baidu,2026-03-10 10:00:00', // 7: new
  'L7,吴九,15000000002,,,,baidu,2026-03-10 10:00:00', // 8: new
  'L8,周八,+86 150-0000-0001,,,,douyin,2026-03-11 10:00:00', // 9: L6's contact-to-be by phone
  'L9,坏号码,abc,,,,baidu,2026-03-10 10:00:00', // 10: rejected
].join('\n');

const importOk = async <T>(kind: string, csv: string) => {
  const res = await h.upload(kind, csv);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};

describe('lead import and matching', () => {
  it('imports contacts with phones in mixed formats, stored normalised with their provenance', async () => {
    expect(await importOk('contacts', CONTACTS)).toEqual({ inserted: 5, updated: 0, rejected: [] });
    const wm1 = await h.contacts.Contact.findOne({ externalUserId: 'wm1' }).lean();
    expect(wm1).toMatchObject({ phones: ['13800138000'], phone: '13800138000' });
    expect(wm1?.identitySources).toEqual([{ field: 'phone', value: '13800138000', source: 'import', at: new Date('2026-03-01T01:00:00Z') }]);
    const phones = (await h.contacts.Contact.find({}, { externalUserId: 1, phones: 1 }).sort({ externalUserId: 1 }).lean()).map((c) => c.phones);
    expect(phones).toEqual([['13800138000'], ['13900139000'], ['13700137000'], ['13800138001'], []]);
    expect(await h.contacts.Contact.findOne({ externalUserId: 'wm4' }).lean()).toMatchObject({ company: '星辰科技' });
    // A re-import adds no second phone and no second provenance entry.
    expect(await importOk('contacts', CONTACTS)).toEqual({ inserted: 0, updated: 5, rejected: [] });
    expect((await h.contacts.Contact.findOne({ externalUserId: 'wm1' }).lean())?.identitySources).toHaveLength(1);
    expect((await h.contacts.Contact.findOne({ externalUserId: 'wm4' }).lean())?.identitySources).toHaveLength(2);
  });

  it('answers a match report: matched by phone, probable by name and company, the rest new', async () => {
    const report = await importOk<LeadReport>('leads', LEADS);
    expect(report).toMatchObject({ inserted: 8, updated: 0, matched: 4, probable: 2, unmatched: 2, unchanged: 0 });
    expect(report.rejected).toEqual([{ line: 10, error: 'phone: not a phone number', reason: 'phone: not a phone number' }]);
  });

  it('enriches a matched contact with the lead’s company and title, attributed to its source, and puts the lead on its timeline', async () => {
    const wm1 = await h.contacts.Contact.findOne({ externalUserId: 'wm1' }).lean();
    expect(wm1).toMatchObject({ name: '张三', company: '远山贸易', title: '采购经理', email: 'zhang@example.com', origin: 'import' });
    const at = new Date('2026-03-10T02:00:00Z');
    expect(wm1?.identitySources).toEqual(
      expect.arrayContaining([
        { field: 'company', value: '远山贸易', source: 'lead:baidu', at },
        { field: 'title', value: '采购经理', source: 'lead:baidu', at },
        { field: 'lead', value: 'L1', source: 'lead:baidu', at },
      ]),
    );
    expect(await h.contacts.TimelineEvent.findOne({ key: 'lead:L1' }).lean()).toMatchObject({ externalUserId: 'wm1', kind: 'lead_submitted', data: { source: 'baidu', company: '远山贸易' } });
    // A matched lead is enrichment, never a second contact.
    expect(await h.contacts.Contact.exists({ externalUserId: 'lead:L1' })).toBeNull();
    expect(await h.models.Lead.findOne({ leadId: 'L3' }).lean()).toMatchObject({ verdict: 'matched', externalUserId: 'wm3' });
    // Company is only filled where the contact had none.
    expect(await h.contacts.Contact.findOne({ externalUserId: 'wm3' }).lean()).toMatchObject({ company: '海川', title: 'CTO' });
  });

  it('makes unmatched leads contacts-to-be attributed to their source, which later leads of the same person match', async () => {
    const l6 = await h.contacts.Contact.findOne({ externalUserId: 'lead:L6' }).lean();
    expect(l6).toMatchObject({ origin: 'lead', name: '周八', phones: ['15000000001'], company: '新公司' });
    expect(l6?.identitySources).toEqual(expect.arrayContaining([{ field: 'lead', value: 'L6', source: 'lead:baidu', at: new Date('2026-03-10T02:00:00Z') }, { field: 'lead', value: 'L8', source: 'lead:douyin', at: new Date('2026-03-11T02:00:00Z') }]));
    expect(await h.contacts.FollowRelation.countDocuments({ externalUserId: 'lead:L6' })).toBe(0);
    expect(await h.contacts.Contact.exists({ externalUserId: 'lead:L8' })).toBeNull();
  });

  it('lists probable pairs for review and merges nothing', async () => {
    const { status, body } = await h.call<{ items: ReviewItem[]; total: number }>('GET', '/api/admin/identity/reviews?status=open');
    expect(status).toBe(200);
    expect(body.total).toBe(2);
    const pairs = body.items.map((i) => i.contacts.map((c) => c.externalUserId).sort());
    expect(pairs).toEqual(expect.arrayContaining([['lead:L4', 'wm5'], ['lead:L5', 'wm4']]));
    const review = body.items.find((i) => i.contacts.some((c) => c.externalUserId === 'wm5'))!;
    expect(review).toMatchObject({ reason: 'name_company', status: 'open' });
    const wm5 = review.contacts.find((c) => c.externalUserId === 'wm5')!;
    expect(wm5).toMatchObject({ name: 'Sun Qi', company: 'Blue Ocean', origin: 'import', relations: [{ userId: 'rep2', status: 'active' }], tagCount: 0, orderCount: 0 });
    const lead = review.contacts.find((c) => c.externalUserId === 'lead:L4')!;
    expect(lead).toMatchObject({ origin: 'lead', title: '销售总监', relations: [], sources: [{ source: 'lead:expo', at: '2026-03-10T02:00:00.000Z' }] });
    expect(await h.contacts.Contact.countDocuments({ externalUserId: mongoose.trusted({ $in: ['wm4', 'wm5', 'lead:L4', 'lead:L5'] }) })).toBe(4);
    expect(await h.models.Merge.countDocuments()).toBe(0);
  });

  it('re-importing the same file changes nothing', async () => {
    const snapshot = async () => ({
      contacts: await h.contacts.Contact.find({}, { _id: 0, updatedAt: 0 }).sort({ externalUserId: 1 }).lean(),
      timeline: await h.contacts.TimelineEvent.countDocuments(),
      reviews: await h.models.Review.find({}, { _id: 0, pairKey: 1, status: 1 }).sort({ pairKey: 1 }).lean(),
      leads: await h.models.Lead.countDocuments(),
    });
    const before = await snapshot();
    const report = await importOk<LeadReport>('leads', LEADS);
    expect(report).toMatchObject({ inserted: 0, updated: 0, matched: 0, probable: 0, unmatched: 0, unchanged: 8 });
    expect(report.rejected).toHaveLength(1);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a lead file with the wrong header', async () => {
    const res = await h.upload('leads', 'lead_id,name\nL1,x\n');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain('line 1 must be the header lead_id,name,phone,company,title,email,source,submitted_at');
  });
});
