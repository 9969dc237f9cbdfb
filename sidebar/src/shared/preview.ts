import { ref } from 'vue';
import { api } from './api.ts';
import { cleanContent, type Content, type Target } from './journey.ts';

/** Who the content is previewed for; one choice for every editor on the page, so it is picked once. */
export const previewTarget = ref('');

export interface Preview { text: string; missing: string[] }

/** Renders content with the engine's own renderer for one customer or group (POST /api/admin/sop/preview). */
export function renderPreview(content: Content, target: Target, id: string): Promise<Preview> {
  const who = target === 'group' ? { chatId: id } : { externalUserId: id };
  return api<Preview>('/api/admin/sop/preview', { method: 'POST', body: { content: cleanContent(content), target, ...who } });
}
