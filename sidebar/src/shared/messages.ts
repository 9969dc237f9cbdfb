/** Texts every page app uses; each app keeps its own in its folder. Keys must exist in both locales. */
export const common = {
  'zh-CN': { loading: '加载中…', retry: '重试', language: 'English' },
  en: { loading: 'Loading…', retry: 'Retry', language: '中文' },
};
