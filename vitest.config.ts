import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers on loopback; two cores make more forks counter-productive.
    pool: 'forks',
    maxWorkers: 2,
    env: { LOG_LEVEL: 'silent', WECHATY_LOG: 'silent' },
  },
});
