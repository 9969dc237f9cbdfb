import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * One build, one page per app: /sidebar/ (the rep's chat toolbar) and /console/ (operators).
 * Shared code (i18n, API client) is split into common chunks under /assets/.
 */
export default defineConfig({
  root: here('./pages'),
  base: '/',
  plugins: [vue()],
  resolve: { alias: { '@': here('./src') } },
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2020',
    reportCompressedSize: false,
    rollupOptions: {
      input: {
        sidebar: here('./pages/sidebar/index.html'),
        console: here('./pages/console/index.html'),
        'bot-playground': here('./pages/bot-playground/index.html'),
      },
    },
  },
  server: { fs: { allow: [here('.')] } },
});
