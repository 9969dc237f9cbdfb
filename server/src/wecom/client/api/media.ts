import { FormData } from 'undici';
import { z } from 'zod';
import { post, type Call } from '../endpoint.ts';
import { UnixSeconds } from './common.ts';

/** Temporary media (media/upload) lives this long on WeCom's side, counted from created_at. */
export const TEMPORARY_MEDIA_LIFETIME_MS = 3 * 24 * 3_600_000;

export type MediaType = 'image' | 'file';

export interface MediaUpload {
  type: MediaType;
  bytes: Uint8Array;
  /** Shown as the file name when the media is sent as a file; WeCom also reads the type from it. */
  filename: string;
  contentType: string;
}

const UploadResponse = z.object({
  type: z.string(),
  media_id: z.string().min(1),
  /** Unix seconds (WeCom sends it as a string). */
  created_at: UnixSeconds,
});
export type UploadedMedia = z.infer<typeof UploadResponse>;

// A repeated upload only leaves an unused media_id behind, so a lost answer may be retried.
const UPLOAD = post('/media/upload', UploadResponse, { idempotent: true });

export function mediaApi(call: Call) {
  return {
    /** Temporary media: the media_id is valid for 3 days from created_at (TEMPORARY_MEDIA_LIFETIME_MS). */
    upload: (media: MediaUpload) => {
      const form = new FormData();
      // Copied into a fresh ArrayBuffer: a Node Buffer may be a view on a larger shared pool.
      form.set('media', new Blob([Uint8Array.from(media.bytes)], { type: media.contentType }), media.filename);
      return call(UPLOAD, { query: { type: media.type }, form });
    },
  };
}
