import getRawBody from 'raw-body';
import { z } from 'zod';
import type { Guard, HttpModule } from '../http/index.ts';
import type { MediaModels } from './models.ts';
import { IMAGE_TYPES, notSendable, sniffImage } from './sniff.ts';

export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
const mediaId = z.string().regex(/^[0-9a-f]{24}$/i, 'must be a media id (24 hex characters)');

export interface MediaRoutesDeps {
  models: MediaModels;
  adminGuard: Guard;
  /** Origin the media URLs are built on (PUBLIC_URL): WeCom and customers' phones fetch link-card pictures from it. */
  publicUrl: string;
  maxBytes?: number;
}

export const mediaUrl = (publicUrl: string, id: string) => `${publicUrl.replace(/\/+$/, '')}/media/${id}`;

/**
 * `POST /api/admin/media` takes one image as the raw body (the app's body parser reads only JSON
 * and forms); `GET /media/:id` serves it to anyone with the id, as WeCom's own picture URLs are.
 */
export function mediaModule(deps: MediaRoutesDeps): HttpModule {
  const maxBytes = deps.maxBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const maxLabel = `${Math.round((maxBytes / 1024 / 1024) * 10) / 10} MB`;
  return {
    name: 'media',
    mount(router) {
      router.post('/api/admin/media', deps.adminGuard, async (ctx) => {
        const declared = ctx.is([...IMAGE_TYPES]);
        if (!declared) return ctx.throw(415, `media: send the image as the body with Content-Type ${IMAGE_TYPES.join(' or ')} (WeCom sends only PNG and JPEG images)`);
        let bytes: Buffer;
        try {
          bytes = await getRawBody(ctx.req, { limit: maxBytes, length: ctx.get('content-length') || undefined });
        } catch (err) {
          if ((err as { status?: number }).status === 413) ctx.throw(413, `media: the image is larger than ${maxLabel}`);
          throw err;
        }
        if (bytes.length === 0) return ctx.throw(400, 'media: the body is empty (send the image bytes)');
        const actual = sniffImage(bytes);
        if (actual === null || actual === 'image/gif') return ctx.throw(400, `media: the bytes are ${notSendable(actual)}`);
        if (actual !== declared) return ctx.throw(400, `media: the bytes are a ${actual} image, not ${declared} as declared`);
        const saved = await deps.models.OperatorMedia.create({ contentType: actual, size: bytes.length, bytes });
        const id = String(saved._id);
        ctx.status = 201;
        ctx.body = { id, url: mediaUrl(deps.publicUrl, id), contentType: actual, size: bytes.length };
      });

      router.get('/media/:id', async (ctx) => {
        const id = mediaId.safeParse(ctx.params.id);
        if (!id.success) return ctx.throw(404, `media: no media ${ctx.params.id}`);
        const etag = `"${id.data}"`;
        // An id always names the same bytes, so a cached copy never goes stale.
        ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
        ctx.set('ETag', etag);
        if (ctx.get('if-none-match') === etag) {
          ctx.status = 304;
          return;
        }
        // Hydrated, not lean: a lean read hands back BSON Binary instead of a Buffer.
        const media = await deps.models.OperatorMedia.findById(id.data);
        if (!media) return ctx.throw(404, `media: no media ${id.data}`);
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.type = media.contentType;
        ctx.body = media.bytes;
      });
    },
  };
}
