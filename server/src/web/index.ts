import path from 'node:path';
import send from 'koa-send';
import type { AppContext, HttpModule } from '../http/index.ts';

import { WEB_DIST } from './build.ts';

export { buildWebIfStale, WEB_DIST } from './build.ts';

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
      router.get('/assets/:file', async (ctx) => {
        ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
        await sendOr404(ctx, `assets/${path.basename(ctx.params.file ?? '')}`);
      });
    },
  };
}
