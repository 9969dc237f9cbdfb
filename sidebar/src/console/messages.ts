export const messages = {
  'zh-CN': { console: { title: 'SCRM 运营控制台' } },
  en: { console: { title: 'SCRM console' } },
};
