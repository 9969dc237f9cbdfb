import { describe, expect, it } from 'vitest';
import { nameCompanyKey, normalisePhone, normalisePhones } from '../../server/src/identity/index.ts';

describe('normalisePhone', () => {
  it('reads every usual spelling of a CN mobile as the same 11 digits', () => {
    for (const raw of ['+86 138-0013-8000', '013800138000', '8613800138000', '138 0013 8000', '13800138000', '+86(138)00138000', '008613800138000']) {
      expect(normalisePhone(raw), raw).toBe('13800138000');
    }
  });

  it('keeps other numbers as their digits and refuses what is not a phone', () => {
    expect(normalisePhone('021-6234 5678')).toBe('02162345678');
    expect(normalisePhone('')).toBeNull();
    expect(normalisePhone(null)).toBeNull();
    expect(normalisePhone('abc')).toBeNull();
    expect(normalisePhone('123')).toBeNull();
  });

  it('drops repeats and blanks from a list, in first-seen order', () => {
    expect(normalisePhones(['138 0013 8000', '', '+8613800138000', '13900139000', null])).toEqual(['13800138000', '13900139000']);
  });
});

describe('nameCompanyKey', () => {
  it('ignores case and spaces, and needs both a name and a company', () => {
    expect(nameCompanyKey(' Li  Lei ', 'ACME Ltd')).toBe(nameCompanyKey('li lei', 'acme ltd'));
    expect(nameCompanyKey('李雷', '')).toBeNull();
    expect(nameCompanyKey('', '星辰科技')).toBeNull();
  });
});
