import { createI18n } from 'vue-i18n';
import { messages } from './messages.ts';

/** Simplified Chinese by default; English when the browser asks for it or the user picks it. */
export function initialLocale(): 'zh-CN' | 'en' {
  const saved = localStorage.getItem('scrm.locale');
  if (saved === 'zh-CN' || saved === 'en') return saved;
  return 'zh-CN';
}

export const i18n = createI18n({ legacy: false, locale: initialLocale(), fallbackLocale: 'zh-CN', messages });

export function setLocale(locale: 'zh-CN' | 'en'): void {
  i18n.global.locale.value = locale;
  localStorage.setItem('scrm.locale', locale);
}
