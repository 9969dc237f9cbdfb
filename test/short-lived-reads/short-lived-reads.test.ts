import { describe, expect, it } from 'vitest';
import { ShortLivedReads } from '../../server/src/short-lived-reads/index.ts';

describe('ShortLivedReads', () => {
  it('shares one read among callers that miss together and answers from it while it lives', async () => {
    const reads = new ShortLivedReads<number>(60_000);
    let loads = 0;
    const load = () => Promise.resolve(++loads);
    const answers = await Promise.all([reads.get('a', load), reads.get('a', load), reads.get('a', load)]);
    expect(answers).toEqual([1, 1, 1]);
    expect(await reads.get('a', load)).toBe(1);
    expect(await reads.get('b', load)).toBe(2);
  });

  it('reads again once an entry has lived its time', async () => {
    const reads = new ShortLivedReads<number>(0);
    let loads = 0;
    await reads.get('a', () => Promise.resolve(++loads));
    expect(await reads.get('a', () => Promise.resolve(++loads))).toBe(2);
  });

  it('reads again after the owner’s generation moved, and keeps no failed read', async () => {
    let generation = 0;
    const reads = new ShortLivedReads<string>(60_000, () => generation);
    expect(await reads.get('k', () => Promise.resolve('old'))).toBe('old');
    generation++;
    expect(await reads.get('k', () => Promise.resolve('new'))).toBe('new');
    await expect(reads.get('x', () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(await reads.get('x', () => Promise.resolve('recovered'))).toBe('recovered');
  });

  it('drops everything past its bound of keys rather than growing', async () => {
    const reads = new ShortLivedReads<string>(60_000, undefined, 2);
    await reads.get('a', () => Promise.resolve('a1'));
    await reads.get('b', () => Promise.resolve('b1'));
    await reads.get('c', () => Promise.resolve('c1'));
    expect(await reads.get('a', () => Promise.resolve('a2'))).toBe('a2');
  });
});
