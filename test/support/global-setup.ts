import { buildWebIfStale } from '../../server/src/web/index.ts';

/** Browser tests open the built sidebar and console: build them once, before any test file runs. */
export default async function setup(): Promise<void> {
  await buildWebIfStale();
}
