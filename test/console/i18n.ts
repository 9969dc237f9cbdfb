import { createI18n } from 'vue-i18n';
import { messages } from '../../sidebar/src/console/messages.ts';
import { common } from '../../sidebar/src/shared/messages.ts';
import type { Translate } from '../../sidebar/src/shared/schedule.ts';

/**
 * The console's real message tables, as the app mounts them, but without falling back to Chinese: an
 * English test then sees a missing English text (as its key) instead of passing on the Chinese one.
 */
export function consoleI18n(locale: 'zh-CN' | 'en' = 'zh-CN') {
  return createI18n({
    legacy: false,
    locale,
    fallbackLocale: false,
    missingWarn: false,
    fallbackWarn: false,
    messages: { 'zh-CN': { common: common['zh-CN'], ...messages['zh-CN'] }, en: { common: common.en, ...messages.en } },
  });
}

export function translator(locale: 'zh-CN' | 'en' = 'zh-CN'): Translate {
  const { t } = consoleI18n(locale).global;
  return (key, params) => t(key, params ?? {});
}
