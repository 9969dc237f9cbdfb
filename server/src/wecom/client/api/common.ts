import { z } from 'zod';

/** Answers that carry nothing but errcode 0. */
export const Empty = z.object({});

/** WeCom sends some timestamps as strings ("1609470000") and others as numbers. */
export const UnixSeconds = z.coerce.number().int();

export const NextCursor = z.string().optional();

export interface TextContent {
  content: string;
}

/**
 * A message attachment as WeCom takes it (image, link, miniprogram, video, file). Kept open:
 * the server passes operator-authored attachments through and WeCom validates them.
 */
export type Attachment =
  | { msgtype: 'image'; image: { media_id?: string; pic_url?: string } }
  | { msgtype: 'link'; link: { title: string; url: string; picurl?: string; desc?: string } }
  | { msgtype: 'miniprogram'; miniprogram: { title: string; pic_media_id: string; appid: string; page: string } }
  | { msgtype: 'video'; video: { media_id: string } }
  | { msgtype: 'file'; file: { media_id: string } };
