import { z } from 'zod';
import { SimError } from '../errors.ts';
import type { SimMedia } from '../model.ts';
import { route, type Route } from './route.ts';

const MB = 1024 * 1024;
/** WeCom's documented limits for synchronous uploads (path/90253); every file must exceed 5 bytes. */
const LIMITS: Record<SimMedia['type'], { max: number; sizeErrcode: number }> = {
  image: { max: 10 * MB, sizeErrcode: 40009 },
  voice: { max: 2 * MB, sizeErrcode: 40006 },
  video: { max: 10 * MB, sizeErrcode: 40011 },
  file: { max: 20 * MB, sizeErrcode: 40006 },
};
const MIN_BYTES = 6;

const isPng = (b: Buffer) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
const isJpeg = (b: Buffer) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

export const mediaRoutes: Record<string, Route> = {
  '/media/upload': route(({ query, upload, state }) => {
    const type = z.enum(['image', 'voice', 'video', 'file']).safeParse(query.type);
    if (!type.success) throw new SimError(40005);
    if (!upload || upload.bytes.length === 0) throw new SimError(44001);
    const limit = LIMITS[type.data];
    if (upload.bytes.length < MIN_BYTES || upload.bytes.length > limit.max) throw new SimError(limit.sizeErrcode);
    // The documented image formats are JPG and PNG; WeCom reads the bytes, not the declared type.
    if (type.data === 'image' && !isPng(upload.bytes) && !isJpeg(upload.bytes)) throw new SimError(40004);
    const media = state.addMedia({ type: type.data, filename: upload.filename, contentType: upload.contentType, size: upload.bytes.length });
    return { type: media.type, media_id: media.mediaId, created_at: String(media.createdAt) };
  }),
};
