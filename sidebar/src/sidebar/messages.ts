export const messages = {
  'zh-CN': { sidebar: { title: '客户助手' } },
  en: { sidebar: { title: 'Customer assistant' } },
};
