import type { MediaModels } from './models.ts';
import { internalHostReason } from './public-host.ts';
import { EXTENSIONS, notSendable, sniffImage, type ImageType } from './sniff.ts';

/** An image source that could not be read. Retryable when it may work later (timeout, 5xx, network). */
export class MediaSourceError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'MediaSourceError';
  }
}

export interface ImageBytes {
  bytes: Buffer;
  contentType: ImageType;
  filename: string;
}

export interface SourceDeps {
  models: MediaModels;
  publicUrl: string;
  fetch: typeof fetch;
  timeoutMs: number;
  maxBytes: number;
  /** Tests fetch from their own loopback servers; a running server never does. */
  allowInternalHosts: boolean;
}

const MAX_REDIRECTS = 3;

const OWN_ID = /^[0-9a-f]{24}$/i;

/**
 * The cache key of a source: `media:<id>` for our own media (by id, /media/<id> or PUBLIC_URL/media/<id>,
 * so the three spellings share one upload), else the http(s) URL itself.
 */
export function sourceKey(source: string, publicUrl: string): string {
  const own = ownMediaId(source, publicUrl);
  if (own) return `media:${own}`;
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new MediaSourceError(`image source "${source}" is neither a media id nor a URL`, false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MediaSourceError(`image source "${source}" must be http(s)`, false);
  return url.toString();
}

function ownMediaId(source: string, publicUrl: string): string | null {
  if (OWN_ID.test(source)) return source.toLowerCase();
  const base = publicUrl.replace(/\/+$/, '');
  const path = source.startsWith(`${base}/media/`) ? source.slice(base.length) : source;
  const match = /^\/media\/([0-9a-f]{24})$/i.exec(path);
  return match ? match[1]!.toLowerCase() : null;
}

export async function readImage(key: string, deps: SourceDeps): Promise<ImageBytes> {
  if (key.startsWith('media:')) {
    const id = key.slice('media:'.length);
    const media = await deps.models.OperatorMedia.findById(id);
    if (!media) throw new MediaSourceError(`no uploaded media ${id}`, false);
    return image(media.bytes, id, key);
  }
  return image(await download(key, deps), new URL(key).pathname.split('/').pop() || 'image', key);
}

function image(bytes: Buffer, name: string, source: string): ImageBytes {
  const contentType = sniffImage(bytes);
  if (contentType === null || contentType === 'image/gif') throw new MediaSourceError(`${source} is ${notSendable(contentType)}`, false);
  const base = name.replace(/\.[a-z0-9]+$/i, '').replace(/[^\w.-]/g, '_').slice(0, 60) || 'image';
  return { bytes, contentType, filename: `${base}.${EXTENSIONS[contentType]}` };
}

/** Redirects are followed by hand so that every hop's host is checked, not only the first. */
async function fetchPublic(url: string, deps: SourceDeps): Promise<Response> {
  const signal = AbortSignal.timeout(deps.timeoutMs);
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const refused = deps.allowInternalHosts ? null : await internalHostReason(current);
    if (refused) throw new MediaSourceError(`${url}: ${refused}`, false);
    let response: Response;
    try {
      response = await deps.fetch(current, { signal, redirect: 'manual' });
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      throw new MediaSourceError(`${url}: ${timedOut ? `no answer within ${deps.timeoutMs} ms` : 'could not be fetched'}`, true);
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return response;
    await response.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new MediaSourceError(`${url}: more than ${MAX_REDIRECTS} redirects`, false);
    current = new URL(location, current);
    if (current.protocol !== 'http:' && current.protocol !== 'https:') throw new MediaSourceError(`${url}: redirects to a non-http(s) address`, false);
  }
}

/** GET with a deadline and a byte cap checked while reading, so a huge or endless body costs at most maxBytes. */
async function download(url: string, deps: SourceDeps): Promise<Buffer> {
  const response = await fetchPublic(url, deps);
  if (!response.ok) {
    await response.body?.cancel();
    throw new MediaSourceError(`${url}: HTTP ${response.status}`, response.status >= 500 || response.status === 429);
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  const tooLarge = () => new MediaSourceError(`${url}: larger than ${deps.maxBytes} bytes`, false);
  if (declared > deps.maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = response.body?.getReader();
    for (let read = await reader?.read(); reader && read && !read.done; read = await reader.read()) {
      size += read.value.length;
      if (size > deps.maxBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(read.value);
    }
  } catch (err) {
    if (err instanceof MediaSourceError) throw err;
    throw new MediaSourceError(`${url}: the download broke off`, true);
  }
  return Buffer.concat(chunks);
}
