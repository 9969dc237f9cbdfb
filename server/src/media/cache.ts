import { TEMPORARY_MEDIA_LIFETIME_MS, type MediaUpload, type UploadedMedia } from '../wecom/index.ts';
import type { MediaModels } from './models.ts';
import { readImage, sourceKey, type SourceDeps } from './source.ts';

/** Re-upload this long before WeCom's 3 days end, so a media_id never expires between lookup and send. */
export const MEDIA_ID_MARGIN_MS = 3_600_000;

export interface WecomMediaCacheDeps {
  models: MediaModels;
  /** WeCom's media/upload (client.media.upload). */
  upload: (media: MediaUpload) => Promise<UploadedMedia>;
  publicUrl: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** For http(s) sources. */
  fetchTimeoutMs?: number;
  /** For http(s) sources; WeCom takes images up to 10 MB. */
  maxBytes?: number;
  /** Lets http(s) sources on loopback or private networks be fetched (tests only). */
  allowInternalHosts?: boolean;
}

/**
 * WeCom media_ids for images, uploaded on first use and reused while valid. Sources are our own
 * media (id or /media/<id> URL) or any http(s) image URL. Upload and fetch failures propagate as
 * WecomError / MediaSourceError, each saying whether a retry can help.
 */
export class WecomMediaCache {
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Entries this instance has read or written, so a send to many targets reads the store once per source. */
  private readonly known = new Map<string, { mediaId: string; validUntil: number }>();
  private readonly now: () => number;
  private readonly source: SourceDeps;

  constructor(private readonly deps: WecomMediaCacheDeps) {
    this.now = deps.now ?? Date.now;
    this.source = {
      models: deps.models,
      publicUrl: deps.publicUrl,
      fetch: deps.fetch ?? globalThis.fetch,
      timeoutMs: deps.fetchTimeoutMs ?? 10_000,
      maxBytes: deps.maxBytes ?? 10 * 1024 * 1024,
      allowInternalHosts: deps.allowInternalHosts ?? false,
    };
  }

  async mediaIdFor(source: string): Promise<string> {
    const key = sourceKey(source, this.deps.publicUrl);
    const memo = this.known.get(key);
    if (memo && memo.validUntil > this.now()) return memo.mediaId;
    const cached = await this.deps.models.WecomMedia.findOne({ source: key }).lean();
    if (cached && cached.validUntil.getTime() > this.now()) {
      this.known.set(key, { mediaId: cached.mediaId, validUntil: cached.validUntil.getTime() });
      return cached.mediaId;
    }
    // Single-flight per source: a mass send to many targets uploads a picture once, not once per target.
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.upload(key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async upload(key: string): Promise<string> {
    const image = await readImage(key, this.source);
    const uploaded = await this.deps.upload({ type: 'image', ...image });
    const uploadedAt = new Date(uploaded.created_at * 1000);
    const validUntil = new Date(uploadedAt.getTime() + TEMPORARY_MEDIA_LIFETIME_MS - MEDIA_ID_MARGIN_MS);
    await this.deps.models.WecomMedia.updateOne(
      { source: key },
      { $set: { mediaId: uploaded.media_id, uploadedAt, validUntil } },
      { upsert: true },
    );
    this.known.set(key, { mediaId: uploaded.media_id, validUntil: validUntil.getTime() });
    return uploaded.media_id;
  }
}
