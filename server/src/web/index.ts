import path from 'node:path';
import send from 'koa-send';
import type { AppContext, HttpModule } from '../http/index.ts';

import { WEB_DIST } from './build.ts';

export { buildWebIfStale, WEB_DIST } from './build.ts';

/** The pages' icon (each page also names it inline), for browsers and tools that ask /favicon.ico. */
const ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#07c160"/><path d="M9 17l5 5 9-11" stroke="white" stroke-width="3.5" fill="none" stroke-linecap="round"/></svg>';

/** The page apps in the bundle; each is served at `/<name>/`. */
const PAGES = ['sidebar', 'console', 'bot-playground'] as const;

/**
 * Serves the built browser apps: `/sidebar/`, `/console/` and their hashed assets under
 * `/assets/` (cached for a year: a new build has new names). Pages are never cached, so a deploy
 * reaches reps at their next open.
 */
export function webModule(deps: { distDir?: string } = {}): HttpModule {
  const root = path.resolve(deps.distDir ?? WEB_DIST);
  const page = (name: string) => async (ctx: AppContext) => {
    ctx.set('Cache-Control', 'no-store');
    await sendOr404(ctx, `${name}/index.html`);
  };
  const sendOr404 = async (ctx: AppContext, file: string) => {
    try {
      await send(ctx, file, { root });
    } catch (err) {
      if ((err as { status?: number }).status === 404) ctx.throw(404, 'not built: run npm start (it builds the browser apps) or npm run build:web');
      throw err;
    }
  };
  return {
    name: 'web',
    mount(router) {
      // Both spellings serve the page: its assets use absolute paths, so no redirect is needed.
      for (const name of PAGES) router.get([`/${name}`, `/${name}/`], page(name));
      router.get('/favicon.ico', (ctx) => {
        ctx.set('Cache-Control', 'public, max-age=86400');
        ctx.type = 'image/svg+xml';
        ctx.body = ICON;
      });
      router.get('/assets/:file', async (ctx) => {
        ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
        await sendOr404(ctx, `assets/${path.basename(ctx.params.file ?? '')}`);
      });
    },
  };
}
