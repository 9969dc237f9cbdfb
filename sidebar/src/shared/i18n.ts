import { createI18n } from 'vue-i18n';
import { common } from './messages.ts';

export type Locale = 'zh-CN' | 'en';
type Messages = Record<Locale, Record<string, unknown>>;

/** Simplified Chinese by default; English when the user picked it (remembered per browser). */
function initialLocale(): Locale {
  const saved = localStorage.getItem('scrm.locale');
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN';
}

/** One i18n per page app: the shared `common` texts plus the app's own. */
export function createAppI18n(own: Messages) {
  return createI18n({
    legacy: false,
    locale: initialLocale(),
    fallbackLocale: 'zh-CN',
    messages: {
      'zh-CN': { common: common['zh-CN'], ...own['zh-CN'] },
      en: { common: common.en, ...own.en },
    },
  });
}

export function saveLocale(locale: Locale): void {
  localStorage.setItem('scrm.locale', locale);
}
