import { z } from 'zod';
import { SimError } from '../errors.ts';
import type { SimState } from '../state.ts';

const MediaAttachment = z.union([
  z.object({ msgtype: z.literal('image'), image: z.object({ media_id: z.string().optional(), pic_url: z.string().optional() }) }),
  z.object({ msgtype: z.literal('miniprogram'), miniprogram: z.object({ title: z.string(), pic_media_id: z.string().optional(), appid: z.string(), page: z.string() }) }),
  z.object({ msgtype: z.literal('video'), video: z.object({ media_id: z.string() }) }),
  z.object({ msgtype: z.literal('file'), file: z.object({ media_id: z.string() }) }),
]);

/**
 * The media ids that welcome and mass-send attachments carry must be live temporary media of the
 * right type (40007 otherwise), and a mini-program card needs its cover's pic_media_id.
 */
export function checkAttachmentMedia(state: SimState, attachments: readonly unknown[]): void {
  for (const raw of attachments) {
    const parsed = MediaAttachment.safeParse(raw);
    if (!parsed.success) continue; // links and shapes WeCom would judge on its own
    const a = parsed.data;
    switch (a.msgtype) {
      case 'image':
        if (a.image.media_id !== undefined) state.requireMedia(a.image.media_id, 'image');
        else if (!a.image.pic_url) throw new SimError(41006);
        break;
      case 'miniprogram':
        if (!a.miniprogram.pic_media_id) throw new SimError(41006, 'miniprogram.pic_media_id missing');
        state.requireMedia(a.miniprogram.pic_media_id, 'image');
        break;
      case 'video':
        state.requireMedia(a.video.media_id, 'video');
        break;
      case 'file':
        state.requireMedia(a.file.media_id, 'file');
        break;
    }
  }
}
