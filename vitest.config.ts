import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Component tests import .vue files; they pick happy-dom with a `@vitest-environment` comment.
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers on loopback; two cores make more forks counter-productive.
    pool: 'forks',
    maxWorkers: 2,
    env: { LOG_LEVEL: 'silent', WECHATY_LOG: 'silent' },
  },
});
