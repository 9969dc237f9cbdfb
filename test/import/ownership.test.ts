import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminHarness, type AdminHarness } from './harness.ts';

interface Report {
  inserted: number;
  updated: number;
  rejected: Array<{ line: number; error: string; code?: string }>;
  conflicts?: Array<{ line: number; externalUserId: string; field: string; kept: string; offered: string }>;
  placeholderReps?: string[];
}

let h: AdminHarness;
beforeAll(async () => {
  h = await startAdminHarness();
  // A contact WeCom told us about: its name, avatar and the relation with zhangsan are WeCom's.
  await h.pool.upsertFromWecom(
    { externalUserId: 'wm-wecom', name: '王总', avatar: 'https://wework.qpic.cn/a.png', type: 1, follows: [{ userId: 'zhangsan', addedAt: new Date('2026-02-01T02:00:00Z'), tagIds: [], state: 'expo' }] },
    new Date('2026-02-01T02:00:00Z'),
  );
});
afterAll(() => h?.close());

const HEADER = 'external_userid,name,follow_userid,state,entered_at,added_at,removed_at,company,title';
const importContacts = async (rows: string[], query = '') => {
  const res = await fetch(`${h.base}/api/admin/import/contacts${query}`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv; charset=utf-8', authorization: 'Bearer admin-token-for-tests-0123' },
    body: [HEADER, ...rows].join('\n'),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
};

describe('a contacts import beside WeCom, the source of truth for what it owns', () => {
  it('keeps WeCom’s name and relation, fills what is empty, and reports each conflict by line', async () => {
    const report = await importContacts([
      'wm-new,新客户,lisi,,2026-03-01 09:00:00,,,,', // line 2: nothing to conflict with
      'wm-wecom,王五,zhangsan,douyin,2026-03-01 09:00:00,2026-03-01 09:05:00,2026-03-09 09:00:00,启明教育,采购经理', // line 3
    ]);
    expect(report).toMatchObject({ inserted: 1, updated: 1, rejected: [] });
    expect(report.conflicts).toEqual([
      { line: 3, externalUserId: 'wm-wecom', field: 'name', kept: '王总', offered: '王五' },
      { line: 3, externalUserId: 'wm-wecom', field: 'state', kept: 'expo', offered: 'douyin' },
      { line: 3, externalUserId: 'wm-wecom', field: 'status', kept: 'active', offered: 'lost' },
      { line: 3, externalUserId: 'wm-wecom', field: 'enteredAt', kept: '2026-02-01T02:00:00.000Z', offered: '2026-03-01T01:00:00.000Z' },
      { line: 3, externalUserId: 'wm-wecom', field: 'addedAt', kept: '2026-02-01T02:00:00.000Z', offered: '2026-03-01T01:05:00.000Z' },
      { line: 3, externalUserId: 'wm-wecom', field: 'removedAt', kept: '', offered: '2026-03-09T01:00:00.000Z' },
    ]);
    const contact = await h.contacts.Contact.findOne({ externalUserId: 'wm-wecom' }).lean();
    expect(contact).toMatchObject({ name: '王总', avatar: 'https://wework.qpic.cn/a.png', company: '启明教育', title: '采购经理' });
    expect(await h.contacts.FollowRelation.findOne({ externalUserId: 'wm-wecom', userId: 'zhangsan' }).lean()).toMatchObject({
      status: 'active',
      state: 'expo',
      addedAt: new Date('2026-02-01T02:00:00Z'),
      removedAt: null,
    });
  });

  it('lets a re-import correct what an import gave, but not a value a lead form gave', async () => {
    await h.contacts.Contact.updateOne(
      { externalUserId: 'wm-new' },
      { $set: { company: '官网公司' }, $push: { identitySources: { field: 'company', value: '官网公司', source: 'lead:官网', at: new Date() } } },
    );
    const report = await importContacts(['wm-new,新名字,lisi,,2026-03-01 09:00:00,2026-03-02 09:00:00,,另一家公司,']);
    expect(report.conflicts).toEqual([{ line: 2, externalUserId: 'wm-new', field: 'company', kept: '官网公司', offered: '另一家公司' }]);
    expect(await h.contacts.Contact.findOne({ externalUserId: 'wm-new' }).lean()).toMatchObject({ name: '新名字', company: '官网公司' });
    expect(await h.contacts.FollowRelation.findOne({ externalUserId: 'wm-new', userId: 'lisi' }).lean()).toMatchObject({ status: 'active', addedAt: new Date('2026-03-02T01:00:00Z') });
  });

  it('refuses a row naming a rep who does not exist, by line, and creates nothing for it', async () => {
    const report = await importContacts([
      'wm-ghost-1,幽灵客户,ghost,,2026-03-01 09:00:00,,,,', // line 2
      'wm-ok,正常客户,lisi,,2026-03-01 09:00:00,,,,', // line 3
    ]);
    expect(report).toMatchObject({ inserted: 1, updated: 0 });
    expect(report.rejected).toEqual([{ line: 2, code: 'unknown_rep', error: expect.stringMatching(/^第 2 行：跟进人 ghost 不是企业微信通讯录里的成员/) }]);
    expect(await h.contacts.FollowRelation.countDocuments({ userId: 'ghost' })).toBe(0);
    expect(await h.contacts.Contact.countDocuments({ externalUserId: 'wm-ghost-1' })).toBe(0);
  });

  it('accepts unknown reps as placeholders when the operator asks', async () => {
    const report = await importContacts(['wm-ghost-1,幽灵客户,ghost,,2026-03-01 09:00:00,,,,'], '?createPlaceholderReps=true');
    expect(report).toMatchObject({ inserted: 1, rejected: [], placeholderReps: ['ghost'] });
    expect(await h.contacts.Rep.findOne({ userId: 'ghost' }).lean()).toMatchObject({ placeholder: true });
    expect(await h.contacts.FollowRelation.countDocuments({ userId: 'ghost' })).toBe(1);
    // Known from now on: a later import names it without asking again.
    expect((await importContacts(['wm-ghost-2,幽灵客户二,ghost,,2026-03-01 09:00:00,,,,'])).rejected).toEqual([]);
  });

  it('answers 400 for a createPlaceholderReps that is not a yes or no', async () => {
    const res = await fetch(`${h.base}/api/admin/import/contacts?createPlaceholderReps=maybe`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv; charset=utf-8', authorization: 'Bearer admin-token-for-tests-0123' },
      body: `${HEADER}\n`,
    });
    expect(res.status).toBe(400);
  });
});
