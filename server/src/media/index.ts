import type { Connection } from 'mongoose';
import type { Guard, HttpModule } from '../http/index.ts';
import type { WecomClient } from '../wecom/index.ts';
import { WecomMediaCache } from './cache.ts';
import { registerMediaModels, type MediaModels } from './models.ts';
import { mediaModule } from './routes.ts';

export { WecomMediaCache, MEDIA_ID_MARGIN_MS, type WecomMediaCacheDeps } from './cache.ts';
export { MediaSourceError } from './source.ts';
export type { MediaModels } from './models.ts';

export interface MediaDeps {
  connection: Connection;
  client: Pick<WecomClient, 'media'>;
  adminGuard: Guard;
  publicUrl: string;
  /** Operator uploads; default 2 MB. */
  maxUploadBytes?: number;
  now?: () => number;
  fetch?: typeof fetch;
  /** Lets image URLs on loopback or private networks be fetched (tests only). */
  allowInternalHosts?: boolean;
}

export interface Media {
  models: MediaModels;
  cache: WecomMediaCache;
  http: HttpModule;
}

/** Operator images (upload, serve) and the WeCom media_id cache that sends use. */
export async function createMedia(deps: MediaDeps): Promise<Media> {
  const models = registerMediaModels(deps.connection);
  await Promise.all(Object.values(models).map((m) => m.init()));
  const cache = new WecomMediaCache({
    models,
    upload: (media) => deps.client.media.upload(media),
    publicUrl: deps.publicUrl,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.allowInternalHosts ? { allowInternalHosts: true } : {}),
  });
  const http = mediaModule({ models, adminGuard: deps.adminGuard, publicUrl: deps.publicUrl, ...(deps.maxUploadBytes ? { maxBytes: deps.maxUploadBytes } : {}) });
  return { models, cache, http };
}
