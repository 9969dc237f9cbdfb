// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createI18n } from 'vue-i18n';
import CustomerView from '../../sidebar/src/sidebar/components/CustomerView.vue';
import type { ChatBridge } from '../../sidebar/src/sidebar/bridge.ts';
import { messages } from '../../sidebar/src/sidebar/messages.ts';
import { common } from '../../sidebar/src/shared/messages.ts';
import { mockFetch, settle } from './fetch-mock.ts';

const i18n = (locale: 'zh-CN' | 'en') =>
  createI18n({ legacy: false, locale, fallbackLocale: false, missingWarn: false, fallbackWarn: false, messages: { 'zh-CN': { common: common['zh-CN'], ...messages['zh-CN'] }, en: { common: common.en, ...messages.en } } });

const profile = {
  contact: { externalUserId: 'wm1', name: '周强', avatar: '', type: 1, corpName: '启明教育', position: '', phone: null },
  relation: { status: 'active', remark: '', description: '', state: null, channelName: null, addedAt: null },
  firstAddedBy: null,
  stage: { computed: 'dormant', override: null, overriddenBy: null, effective: 'dormant' },
  score: { value: 20, reasons: [] },
  groups: [],
  risk: {
    score: 65,
    computedAt: '2026-11-23T02:00:00.000Z',
    reasons: [
      { code: 'silent_vs_rhythm', points: 35, label: { zh: '已沉默 40 天，平时约 7 天互动一次', en: 'silent 40 days while the usual gap is 7 days' } },
      { code: 'rep_deleted', points: 30, label: { zh: '1 位跟进人的好友关系已断开（剩余 1 位）', en: '1 rep relation(s) ended (1 still active)' } },
    ],
  },
};
const bridge = { context: async () => ({ kind: 'contact', externalUserId: 'wm1' }) } as unknown as ChatBridge; // only the script list would use it

afterEach(() => vi.unstubAllGlobals());

describe('sidebar customer card', () => {
  it('shows the churn risk score and each reason in Chinese, or in English', async () => {
    mockFetch((call) => (call.path.endsWith('/profile') ? { body: profile } : { body: [] }));
    const zh = mount(CustomerView, { props: { externalUserId: 'wm1', bridge }, global: { plugins: [i18n('zh-CN')] } });
    await settle();
    await settle();
    const card = zh.find('[data-test="churn-risk"]');
    expect(card.text()).toContain('流失风险 65');
    expect(card.text()).toContain('高');
    expect(card.find('[data-test="risk-silent_vs_rhythm"]').text()).toBe('+35 已沉默 40 天，平时约 7 天互动一次');

    const en = mount(CustomerView, { props: { externalUserId: 'wm1', bridge }, global: { plugins: [i18n('en')] } });
    await settle();
    await settle();
    expect(en.find('[data-test="risk-rep_deleted"]').text()).toBe('+30 1 rep relation(s) ended (1 still active)');
  });

  it('shows no risk block before the contact is scored', async () => {
    mockFetch((call) => (call.path.endsWith('/profile') ? { body: { ...profile, risk: null } } : { body: [] }));
    const view = mount(CustomerView, { props: { externalUserId: 'wm1', bridge }, global: { plugins: [i18n('zh-CN')] } });
    await settle();
    await settle();
    expect(view.find('[data-test="profile"]').exists()).toBe(true);
    expect(view.find('[data-test="churn-risk"]').exists()).toBe(false);
  });
});
