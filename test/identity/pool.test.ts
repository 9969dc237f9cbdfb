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
