import { api } from './api.ts';

/** What POST /api/admin/media accepts (contract-13): the image bytes as the raw body. */
/** WeCom sends PNG and JPEG images only. */
export const IMAGE_TYPES = ['image/png', 'image/jpeg'] as const;
export const IMAGE_MAX_BYTES = 2 * 1024 * 1024;

export interface Media { id: string; url: string; contentType: string; size: number }

/** Checked here too, so the operator hears why before waiting for an upload. */
export function imageProblem(file: File): 'wrongType' | 'tooBig' | null {
  if (!(IMAGE_TYPES as readonly string[]).includes(file.type)) return 'wrongType';
  return file.size > IMAGE_MAX_BYTES ? 'tooBig' : null;
}

export const uploadImage = (file: File) => api<Media>('/api/admin/media', { method: 'POST', raw: file });
