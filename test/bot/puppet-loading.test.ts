import { describe, expect, it } from 'vitest';
import { loadPuppet } from '../../server/src/bot/index.ts';

describe('loading the wechat4u puppet', () => {
  it('keeps the process crash policy: the uncaughtException handler wechat4u installs is removed again', async () => {
    const ours = () => undefined;
    process.on('uncaughtException', ours);
    try {
      const before = process.listeners('uncaughtException');
      // Constructed, never started: no network in tests.
      const puppet = await loadPuppet('wechaty-puppet-wechat4u', undefined);
      expect(puppet.name()).toContain('wechaty-puppet-wechat4u');
      expect(process.listeners('uncaughtException')).toEqual(before);
    } finally {
      process.off('uncaughtException', ours);
    }
  });
});
