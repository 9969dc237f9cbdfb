import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityHarness, type IdentityHarness } from './harness.ts';

let h: IdentityHarness;
beforeAll(async () => {
  h = await startIdentityHarness();
});
afterAll(() => h?.close());

const at = new Date('2026-05-01T02:00:00Z');

describe('phones the pool learns', () => {
  it('takes WeCom remark_mobiles into phones, normalised, with wecom as their source, once however often synced', async () => {
    const snapshot = {
      externalUserId: 'wm_p',
      name: '许三',
      type: 1 as const,
      corpName: '云杉',
      follows: [
        { userId: 'rep1', addedAt: at, tagIds: [], remarkMobiles: ['+86 138-0013-8000'] },
        { userId: 'rep2', addedAt: at, tagIds: [], remarkMobiles: ['13800138000', '021-6234 5678'] },
      ],
    };
    await h.pool.upsertFromWecom(snapshot, at);
    await h.pool.upsertFromWecom(snapshot, new Date(at.getTime() + 60_000));
    const contact = await h.contacts.Contact.findOne({ externalUserId: 'wm_p' }).lean();
    expect(contact).toMatchObject({ phones: ['13800138000', '02162345678'], phone: '13800138000', nameCompanyKey: '许三|云杉' });
    expect(contact?.identitySources).toEqual([
      { field: 'phone', value: '13800138000', source: 'wecom', at },
      { field: 'phone', value: '02162345678', source: 'wecom', at },
    ]);
    expect(await h.identity.match({ phones: ['8613800138000'] })).toMatchObject({ verdict: 'same', reason: 'phone', contact: { externalUserId: 'wm_p' } });
    expect(await h.identity.match({ phones: [], name: '许 三', company: '云杉' })).toMatchObject({ verdict: 'probable', contact: { externalUserId: 'wm_p' } });
  });

  it('links a bot contact by a phone in another spelling and records the bot as a source', async () => {
    const linked = await h.pool.recordBotContact({ botContactId: 'b1', name: '三', phones: ['138 0013 8000', '13911112222'] }, at);
    expect(linked).toEqual({ externalUserId: 'wm_p', linked: true, created: false });
    const contact = await h.contacts.Contact.findOne({ externalUserId: 'wm_p' }).lean();
    expect(contact?.phones).toEqual(['13800138000', '02162345678', '13911112222']);
    expect(contact?.identitySources).toContainEqual({ field: 'phone', value: '13911112222', source: 'bot', at });

    const alone = await h.pool.recordBotContact({ botContactId: 'b2', name: '路人', phones: ['+86 137 0000 0000'] }, at);
    expect(alone).toMatchObject({ externalUserId: 'bot:b2', created: true });
    expect(await h.contacts.Contact.findOne({ externalUserId: 'bot:b2' }).lean()).toMatchObject({ phone: '13700000000', phones: ['13700000000'] });
  });
});

describe('a WeCom contact arriving with facts the pool already knows', () => {
  const follow = (remarkMobiles: string[]) => ({ userId: 'rep1', addedAt: at, tagIds: [], remarkMobiles });

  it('absorbs the lead who filled a form with the same phone (automatically, listed as such), and only reviews another WeCom contact', async () => {
    const lead = await h.upload('leads', 'lead_id,name,phone,company,title,email,source,submitted_at\nF-77,柯南,+86 139-1111-0000,米花侦探社,顾问,,春季展会,2026-04-30 10:00:00\n');
    expect(await lead.json()).toMatchObject({ inserted: 1, unmatched: 1 });
    const toBe = await h.contacts.Contact.findOne({ phones: '13911110000' }).lean();
    expect(toBe?.origin).toBe('lead');

    await h.pool.upsertFromWecom({ externalUserId: 'wm_conan', name: '柯南', type: 1, follows: [follow(['139 1111 0000'])] }, at);
    expect(await h.contacts.Contact.countDocuments({ externalUserId: toBe!.externalUserId })).toBe(0);
    expect(await h.contacts.Contact.findOne({ externalUserId: 'wm_conan' }).lean()).toMatchObject({ company: '米花侦探社', title: '顾问', phones: ['13911110000'] });
    const merges = await h.call<{ items: Array<{ survivor: { externalUserId: string }; merged: { externalUserId: string }; reason: string; auto: boolean }> }>('GET', '/api/admin/identity/merges');
    expect(merges.body.items).toContainEqual(expect.objectContaining({ survivor: expect.objectContaining({ externalUserId: 'wm_conan' }), merged: expect.objectContaining({ externalUserId: toBe!.externalUserId }), reason: 'phone', auto: true }));

    // The same phone on a second WeCom contact (a shared family phone?): WeCom keeps both ids, an operator decides.
    await h.pool.upsertFromWecom({ externalUserId: 'wm_conan2', name: '工藤', type: 1, follows: [follow(['13911110000'])] }, at);
    expect(await h.contacts.Contact.countDocuments({ externalUserId: mongoose.trusted({ $in: ['wm_conan', 'wm_conan2'] }) })).toBe(2);
    const reviews = await h.call<{ items: Array<{ reason: string; contacts: Array<{ externalUserId: string }> }> }>('GET', '/api/admin/identity/reviews?status=open');
    const pair = reviews.body.items.find((r) => r.contacts.some((c) => c.externalUserId === 'wm_conan2'));
    expect(pair?.reason).toBe('phone');
    expect(pair?.contacts.map((c) => c.externalUserId).sort()).toEqual(['wm_conan', 'wm_conan2']);

    // A re-sync with nothing new asks nothing again: still one review for the pair.
    await h.pool.upsertFromWecom({ externalUserId: 'wm_conan2', name: '工藤', type: 1, follows: [follow(['13911110000'])] }, at);
    expect(await h.models.Review.countDocuments({ contactIds: 'wm_conan2' })).toBe(1);
  });
});
