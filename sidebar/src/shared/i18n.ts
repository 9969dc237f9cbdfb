import { createI18n, useI18n } from 'vue-i18n';
import { common } from './messages.ts';

export type Locale = 'zh-CN' | 'en';
const LOCALE_KEY = 'scrm.locale';
type Messages = Record<Locale, Record<string, unknown>>;

/** Simplified Chinese by default; English when the user picked it (remembered per browser). */
function initialLocale(): Locale {
  const saved = localStorage.getItem(LOCALE_KEY);
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN';
}

/** One i18n per page app: the shared `common` texts plus the app's own. */
export function createAppI18n(own: Messages) {
  const locale = initialLocale();
  document.documentElement.lang = locale;
  return createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'zh-CN',
    messages: {
      'zh-CN': { common: common['zh-CN'], ...own['zh-CN'] },
      en: { common: common.en, ...own.en },
    },
  });
}

/** Flips between Chinese and English, remembers the choice and keeps `<html lang>` in step. */
export function useLocaleToggle(): () => void {
  const { locale } = useI18n();
  return () => {
    const next: Locale = locale.value === 'en' ? 'zh-CN' : 'en';
    locale.value = next;
    localStorage.setItem(LOCALE_KEY, next);
    document.documentElement.lang = next;
  };
}
