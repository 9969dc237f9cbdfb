import { ref } from 'vue';
import { api } from '../shared/api.ts';
import type { Translate } from '../shared/schedule.ts';

export interface ReplySourceView {
  source: 'bot' | 'sidebar_mark' | 'chat_archive';
  active: boolean;
}

const sources = ref<ReplySourceView[] | null>(null);
let loading: Promise<void> | null = null;

/** What "replied" counts in this deployment: read once per page load (it changes only with a restart). */
export function useReplySources() {
  loading ??= api<{ sources: ReplySourceView[] }>('/api/admin/reply-sources')
    .then((r) => void (sources.value = r.sources))
    .catch(() => void (loading = null));
  return sources;
}

export const replySourcesText = (list: ReplySourceView[], t: Translate) =>
  t('console.replySources.counts', {
    active: list.filter((s) => s.active).map((s) => t(`console.replySources.${s.source}`)).join('、'),
    inactive: list.filter((s) => !s.active).map((s) => t(`console.replySources.${s.source}`)).join('、') || '—',
  });
