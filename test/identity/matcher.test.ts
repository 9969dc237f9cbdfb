import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameCompanyKey } from '../../server/src/identity/index.ts';
import { startIdentityHarness, type IdentityHarness } from './harness.ts';

let h: IdentityHarness;
beforeAll(async () => {
  h = await startIdentityHarness();
  await h.contacts.Contact.create([
    { externalUserId: 'wm_union', name: '韩梅梅', unionId: 'u-123' },
    { externalUserId: 'wm_phone', name: '李雷', phones: ['13800138000', '02162345678'], phone: '13800138000' },
    { externalUserId: 'wm_name', name: 'Li Lei', company: 'ACME Ltd', nameCompanyKey: nameCompanyKey('Li Lei', 'ACME Ltd') },
  ]);
});
afterAll(() => h?.close());

describe('the matcher', () => {
  it('says same for a shared unionid, before anything else', async () => {
    const match = await h.identity.match({ unionId: 'u-123', phones: ['13800138000'], name: 'Li Lei', company: 'ACME Ltd' });
    expect(match).toMatchObject({ verdict: 'same', reason: 'unionid', contact: { externalUserId: 'wm_union' } });
  });

  it('says same for any shared phone, in any spelling', async () => {
    expect(await h.identity.match({ phones: ['+86 138-0013-8000'] })).toMatchObject({ verdict: 'same', reason: 'phone', contact: { externalUserId: 'wm_phone' } });
    expect(await h.identity.match({ phones: ['13999999999', '021-62345678'] })).toMatchObject({ verdict: 'same', reason: 'phone', contact: { externalUserId: 'wm_phone' } });
  });

  it('says probable for the same name and company without a shared phone', async () => {
    const match = await h.identity.match({ phones: ['13711112222'], name: ' li  LEI', company: 'acme ltd' });
    expect(match).toMatchObject({ verdict: 'probable', reason: 'name_company', contact: { externalUserId: 'wm_name' } });
  });

  it('says new otherwise, and never matches a contact with itself', async () => {
    expect(await h.identity.match({ phones: ['13711112222'], name: 'Li Lei', company: 'Other Co' })).toEqual({ verdict: 'new', reason: 'no_match' });
    expect(await h.identity.match({ phones: [], name: 'Li Lei' })).toEqual({ verdict: 'new', reason: 'no_match' });
    expect(await h.identity.match({ phones: ['13800138000'] }, 'wm_phone')).toEqual({ verdict: 'new', reason: 'no_match' });
  });

  it('is served by indexes on phones, unionId and the name + company key', async () => {
    const indexes = (await h.contacts.Contact.collection.indexes()).map((i) => Object.keys(i.key).join(','));
    expect(indexes).toEqual(expect.arrayContaining(['phones', 'unionId', 'nameCompanyKey']));
  });
});
