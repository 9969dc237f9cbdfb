/**
 * The image types WeCom sends (its media/upload takes JPG and PNG for images), told apart by their
 * first bytes, never by what the client claims. GIFs are recognised only to say why they are refused.
 */
export const IMAGE_TYPES = ['image/png', 'image/jpeg'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

const SIGNATURES: Array<{ type: ImageType | 'image/gif'; bytes: number[] }> = [
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/gif', bytes: [0x47, 0x49, 0x46, 0x38] }, // "GIF8" (GIF87a / GIF89a)
];

export function sniffImage(bytes: Uint8Array): ImageType | 'image/gif' | null {
  return SIGNATURES.find((s) => s.bytes.every((b, i) => bytes[i] === b))?.type ?? null;
}

/** Why bytes that are not PNG or JPEG cannot be sent, in the words an operator needs. */
export const notSendable = (sniffed: 'image/gif' | null): string =>
  sniffed === 'image/gif' ? 'a GIF image: WeCom sends only PNG and JPEG images' : 'not a PNG or JPEG image';

export const EXTENSIONS: Record<ImageType, string> = { 'image/png': 'png', 'image/jpeg': 'jpg' };
