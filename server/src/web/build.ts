import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The browser apps' folder (sources, vite config) and their build output. */
export const WEB_DIR = fileURLToPath(new URL('../../../sidebar/', import.meta.url));
export const WEB_DIST = path.join(WEB_DIR, 'dist');

/**
 * Builds the sidebar and console bundle when its sources are newer than the last build, so
 * `npm start` and the browser tests never serve a stale or missing bundle, and a second start
 * costs nothing. Vite is imported only when a build is needed: production starts never load it.
 */
export async function buildWebIfStale(options: { log?: (line: string) => void } = {}): Promise<'built' | 'fresh'> {
  const stamp = path.join(WEB_DIST, '.build-stamp');
  const built = await mtime(stamp);
  const sources = await newestMtime([path.join(WEB_DIR, 'src'), path.join(WEB_DIR, 'pages'), path.join(WEB_DIR, 'vite.config.ts')]);
  if (built !== null && built >= sources) return 'fresh';

  options.log?.('building the sidebar and console (vite)…');
  const { build } = await import('vite');
  await build({ configFile: path.join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
  await writeFile(stamp, new Date().toISOString());
  return 'built';
}

async function mtime(file: string): Promise<number | null> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return null;
  }
}

async function newestMtime(paths: string[]): Promise<number> {
  let newest = 0;
  for (const entry of paths) {
    const info = await stat(entry).catch(() => null);
    if (!info) continue;
    if (!info.isDirectory()) {
      newest = Math.max(newest, info.mtimeMs);
      continue;
    }
    const files = await readdir(entry, { recursive: true, withFileTypes: true });
    for (const file of files) {
      if (file.isFile()) newest = Math.max(newest, (await stat(path.join(file.parentPath, file.name))).mtimeMs);
    }
  }
  return newest;
}
