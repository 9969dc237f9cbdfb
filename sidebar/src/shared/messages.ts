/** Texts every page app uses; each app keeps its own in its folder. Keys must exist in both locales. */
export const common = {
  'zh-CN': {
    loading: '加载中…',
    retry: '重试',
    language: 'English',
    stage: { new: '新客', first_purchase: '首购', repeat: '复购老客', dormant: '沉睡', churn_risk: '流失风险' },
  },
  en: {
    loading: 'Loading…',
    retry: 'Retry',
    language: '中文',
    stage: { new: 'New', first_purchase: 'First purchase', repeat: 'Repeat buyer', dormant: 'Dormant', churn_risk: 'Churn risk' },
  },
};
