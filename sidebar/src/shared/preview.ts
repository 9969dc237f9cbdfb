import { ref } from 'vue';
import { api } from './api.ts';
import { cleanContent, type Content, type Target } from './journey.ts';

/** Who the content is previewed for; one choice for every editor on the page, so it is picked once. */
export const previewTarget = ref('');
/** How the picker shows the customer previewed for (their name), kept with the id so every step's editor shows it. */
export const previewLabel = ref('');

export interface Preview { text: string; missing: string[] }

/** Renders content with the engine's own renderer for one customer or group (POST /api/admin/sop/preview). */
export function renderPreview(content: Content, target: Target, id: string): Promise<Preview> {
  const who = target === 'group' ? { chatId: id } : { externalUserId: id };
  return api<Preview>('/api/admin/sop/preview', { method: 'POST', body: { content: cleanContent(content), target, ...who } });
}
