/** UI text. Each app keeps its own section; `common` is shared. Keys must exist in both locales. */
export const messages = {
  'zh-CN': {
    common: { loading: '加载中…', retry: '重试', language: 'English' },
    sidebar: { title: '客户助手' },
    console: { title: 'SCRM 运营控制台' },
  },
  en: {
    common: { loading: 'Loading…', retry: 'Retry', language: '中文' },
    sidebar: { title: 'Customer assistant' },
    console: { title: 'SCRM console' },
  },
};
