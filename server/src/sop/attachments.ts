import type { AppMessageBody, Attachment } from '../wecom/index.ts';
import type { SopContent } from './templates/schema.ts';

type SopAttachment = SopContent['attachments'][number];

/** Turns an image source (our media id/URL or any http(s) URL) into a live WeCom media_id; the media module's cache. */
export interface MediaIds {
  mediaIdFor(source: string): Promise<string>;
}

export interface Converted<T> {
  items: T[];
  /** Attachments left out, each with why: shown in the step's outcome so nothing disappears silently. */
  skipped: string[];
}

const describe = (a: SopAttachment) => (a.type === 'image' ? `image ${a.url}` : `${a.type} "${a.title}"`);

/**
 * Attachments as welcome and mass-send messages take them. Images and mini-program covers are
 * uploaded (media/upload) through the cache; a mini-program without a picUrl cannot go out, since
 * WeCom requires its cover's pic_media_id, so it is skipped with a reason and the rest is sent.
 * Without a media cache (tests, tools) images fall back to pic_url. Upload failures propagate.
 */
export async function toWecomAttachments(attachments: readonly SopAttachment[], media: MediaIds | null): Promise<Converted<Attachment>> {
  const items: Attachment[] = [];
  const skipped: string[] = [];
  for (const a of attachments) {
    switch (a.type) {
      case 'link':
        items.push({ msgtype: 'link', link: { title: a.title, url: a.url, ...(a.picUrl ? { picurl: a.picUrl } : {}), ...(a.desc ? { desc: a.desc } : {}) } });
        break;
      case 'image':
        items.push({ msgtype: 'image', image: media ? { media_id: await media.mediaIdFor(a.url) } : { pic_url: a.url } });
        break;
      case 'miniprogram':
        if (!a.picUrl) skipped.push(`${describe(a)}: no picUrl (WeCom needs a cover image for a mini-program card)`);
        else if (!media) skipped.push(`${describe(a)}: no media upload configured for its cover`);
        else items.push({ msgtype: 'miniprogram', miniprogram: { title: a.title, appid: a.appId, page: a.page, pic_media_id: await media.mediaIdFor(a.picUrl) } });
        break;
    }
  }
  return { items, skipped };
}

/**
 * The same attachments as app messages (message/send) for a test send to an operator: an image by
 * media_id, a link card as a news message. App messages cannot carry a customer-facing
 * mini-program card, so one is shown as a news card with its cover and page instead.
 */
export async function toAppMessages(attachments: readonly SopAttachment[], media: MediaIds): Promise<Converted<AppMessageBody>> {
  const items: AppMessageBody[] = [];
  const skipped: string[] = [];
  for (const a of attachments) {
    switch (a.type) {
      case 'link':
        items.push({ msgtype: 'news', news: { articles: [{ title: a.title, url: a.url, ...(a.desc ? { description: a.desc } : {}), ...(a.picUrl ? { picurl: a.picUrl } : {}) }] } });
        break;
      case 'image':
        items.push({ msgtype: 'image', image: { media_id: await media.mediaIdFor(a.url) } });
        break;
      case 'miniprogram':
        if (!a.picUrl) {
          skipped.push(`${describe(a)}: no picUrl (WeCom needs a cover image for a mini-program card)`);
          break;
        }
        // Uploaded though news shows it by URL: a test send should fail where the real send would.
        await media.mediaIdFor(a.picUrl);
        items.push({ msgtype: 'news', news: { articles: [{ title: `[小程序] ${a.title}`, description: `${a.appId} ${a.page}`, url: a.picUrl, picurl: a.picUrl }] } });
        break;
    }
  }
  return { items, skipped };
}
