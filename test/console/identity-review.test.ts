// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import IdentityReviewPage from '../../sidebar/src/console/pages/identity/IdentityReviewPage.vue';
import ImportPage from '../../sidebar/src/console/pages/ImportPage.vue';
import type { ContactCard, Merge, Review } from '../../sidebar/src/console/pages/identity/identity.ts';
import { mockFetch } from './fetch-mock.ts';
import { fakeXhr } from './fake-xhr.ts';
import { consoleI18n } from './i18n.ts';

afterEach(() => {
  vi.unstubAllGlobals();
  location.hash = '';
});

const card = (id: string, extra: Partial<ContactCard> = {}): ContactCard => ({
  externalUserId: id,
  name: '王芳',
  avatar: '',
  company: '星河科技',
  title: '采购经理',
  phones: [],
  email: null,
  unionId: null,
  origin: null,
  sources: [],
  relations: [],
  tagCount: 0,
  orderCount: 0,
  ...extra,
});

const reviews = (): Review[] => [
  {
    id: 'r1',
    reason: 'name_company',
    status: 'open',
    contacts: [
      card('wmA', { phones: ['13800000001'], email: 'wf@xinghe.cn', unionId: 'oU_1', origin: 'wecom', sources: [{ source: '渠道活码·展会', at: '2026-11-01T02:00:00.000Z' }], relations: [{ userId: 'liuyang', status: 'active' }], tagCount: 3, orderCount: 2 }),
      card('lead:L-9', { phones: ['13900000009'], origin: 'lead', sources: [{ source: 'lead:官网表单', at: '2026-11-20T06:30:00.000Z' }], relations: [{ userId: 'zhaolei', status: 'lost' }], tagCount: 0, orderCount: 0 }),
    ],
  },
  { id: 'r2', reason: 'name_company', status: 'open', contacts: [card('wmB', { name: '李雷' }), card('wmC', { name: '李雷' })] },
];

const merges = (): Merge[] => [
  { id: 'm1', survivor: { externalUserId: 'wmA', name: '王芳' }, merged: { externalUserId: 'lead:L-1', name: '王芳' }, reason: 'phone', auto: true, mergedAt: '2026-11-21T01:00:00.000Z', undoneAt: null },
  { id: 'm2', survivor: { externalUserId: 'wmB', name: '李雷' }, merged: { externalUserId: 'wmD', name: '李雷' }, reason: 'unionid', auto: false, mergedAt: '2026-11-22T01:00:00.000Z', undoneAt: '2026-11-22T03:00:00.000Z' },
];

function page(tab: 'reviews' | 'merges' = 'reviews', locale: 'zh-CN' | 'en' = 'zh-CN') {
  return mount(IdentityReviewPage, { props: { tab }, global: { plugins: [consoleI18n(locale)] } });
}

describe('客户合并审核', () => {
  it('shows both contacts of a probable match side by side, with the reason in Chinese', async () => {
    const calls = mockFetch((call) => (call.path === '/api/admin/identity/reviews?status=open' ? { body: { items: reviews(), total: 2 } } : undefined));
    const wrapper = page();
    await nextTick();
    expect(wrapper.find('[data-loading]').text()).toBe('加载中…');
    await flushPromises();
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/api/admin/identity/reviews?status=open' });
    expect(wrapper.find('[data-review-total]').text()).toBe('2 组待审核');
    const item = wrapper.find('[data-review="r1"]');
    expect(item.find('[data-review-reason]').text()).toBe('同名且同公司（无共同手机号）');
    const left = item.find('[data-card="left"]');
    const right = item.find('[data-card="right"]');
    expect(left.attributes('data-contact')).toBe('wmA');
    expect(right.attributes('data-contact')).toBe('lead:L-9');
    expect(left.find('[data-card-name]').text()).toBe('王芳');
    expect(left.find('[data-card-company]').text()).toBe('星河科技');
    expect(left.find('[data-card-phones]').text()).toBe('13800000001');
    expect(left.text()).toContain('oU_1');
    expect(left.text()).toContain('wf@xinghe.cn');
    expect(left.find('[data-card-sources]').text()).toContain('渠道活码·展会');
    expect(left.find('[data-card-origin]').text()).toBe('企业微信添加');
    expect(right.find('[data-card-origin]').text()).toBe('线索');
    expect(left.find('[data-card-relations]').text()).toBe('liuyang · 跟进中');
    expect(left.find('[data-card-tags]').text()).toBe('3 个');
    expect(left.find('[data-card-orders]').text()).toBe('2 笔');
    expect(right.find('[data-card-phones]').text()).toBe('13900000009');
    expect(right.find('[data-card-relations]').text()).toBe('zhaolei · 已删除');
    expect(right.find('[data-card-sources]').text()).toContain('线索 · 官网表单');
  });

  it('merges into the left contact: posts the left id as survivor and removes the item', async () => {
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/identity/reviews?status=open') return { body: { items: reviews(), total: 2 } };
      if (call.path === '/api/admin/identity/reviews/r1/merge') return { body: { merge: { id: 'm9', survivor: 'wmA', merged: 'lead:L-9' } } };
      return undefined;
    });
    const wrapper = page();
    await flushPromises();
    await wrapper.find('[data-review="r1"] [data-action="merge-left"]').trigger('click');
    await flushPromises();
    expect(calls.at(-1)).toEqual({ method: 'POST', path: '/api/admin/identity/reviews/r1/merge', body: { survivor: 'wmA' } });
    expect(wrapper.find('[data-review="r1"]').exists()).toBe(false);
    expect(wrapper.find('[data-review="r2"]').exists()).toBe(true);
    expect(wrapper.find('[data-review-notice]').text()).toBe('已合并：保留「王芳」');
    expect(wrapper.find('[data-review-total]').text()).toBe('1 组待审核');
  });

  it('merges into the right contact with the right id as survivor', async () => {
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/identity/reviews?status=open') return { body: { items: reviews(), total: 2 } };
      if (call.path === '/api/admin/identity/reviews/r1/merge') return { body: { merge: { id: 'm9', survivor: 'lead:L-9', merged: 'wmA' } } };
      return undefined;
    });
    const wrapper = page();
    await flushPromises();
    await wrapper.find('[data-review="r1"] [data-action="merge-right"]').trigger('click');
    await flushPromises();
    expect(calls.at(-1)?.body).toEqual({ survivor: 'lead:L-9' });
    expect(wrapper.find('[data-review="r1"]').exists()).toBe(false);
  });

  it('keeps a pair apart: posts keep-apart and removes the item', async () => {
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/identity/reviews?status=open') return { body: { items: reviews(), total: 2 } };
      if (call.path === '/api/admin/identity/reviews/r2/keep-apart') return { body: { ok: true } };
      return undefined;
    });
    const wrapper = page();
    await flushPromises();
    await wrapper.find('[data-review="r2"] [data-action="keep-apart"]').trigger('click');
    await flushPromises();
    expect(calls.at(-1)).toMatchObject({ method: 'POST', path: '/api/admin/identity/reviews/r2/keep-apart' });
    expect(wrapper.find('[data-review="r2"]').exists()).toBe(false);
    expect(wrapper.find('[data-review-notice]').text()).toBe('已标记为不是同一人');
  });

  it('shows a failed decision on its own item, in Chinese, and keeps the item', async () => {
    mockFetch((call) => {
      if (call.path === '/api/admin/identity/reviews?status=open') return { body: { items: reviews(), total: 2 } };
      if (call.path === '/api/admin/identity/reviews/r1/merge') return { status: 409, body: { error: 'not_open', message: 'identity: review r1 was decided meanwhile' } };
      if (call.path === '/api/admin/identity/reviews/r2/keep-apart') return { status: 500, body: { error: 'internal_error', message: 'Internal server error' } };
      return undefined;
    });
    const wrapper = page();
    await flushPromises();
    await wrapper.find('[data-review="r1"] [data-action="merge-left"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-review="r1"] [data-review-error]').text()).toBe('操作失败：已被其他人处理过');
    expect(wrapper.find('[data-review="r2"] [data-review-error]').exists()).toBe(false);
    expect(wrapper.find('[data-review="r1"]').exists()).toBe(true);
    // A refusal the console does not know in words still says what the server said.
    await wrapper.find('[data-review="r2"] [data-action="keep-apart"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-review="r2"] [data-review-error]').text()).toBe('操作失败：500 Internal server error');
  });

  it('bulk merges the selected items after a confirmation, then shows the done count and each failure with its reason', async () => {
    const confirm = vi.fn(() => true);
    vi.stubGlobal('confirm', confirm);
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/identity/reviews?status=open') return { body: { items: reviews(), total: 2 } };
      if (call.path === '/api/admin/identity/reviews/bulk') return { body: { done: 1, failed: [{ id: 'r2', reason: 'not_open', message: 'review r2 is already merged' }] } };
      return undefined;
    });
    const wrapper = page();
    await flushPromises();
    expect(wrapper.find('[data-action="bulk-merge"]').attributes('disabled')).toBeDefined();
    await wrapper.find('[data-action="select-all"]').setValue(true);
    expect(wrapper.find('[data-selected-count]').text()).toBe('已选 2 组');
    await wrapper.find('[data-action="bulk-merge"]').trigger('click');
    await flushPromises();
    expect(confirm).toHaveBeenCalledWith(expect.stringContaining('将已选的 2 组客户分别合并为一人'));
    expect(calls.at(-1)).toEqual({ method: 'POST', path: '/api/admin/identity/reviews/bulk', body: { ids: ['r1', 'r2'], action: 'merge' } });
    expect(wrapper.find('[data-bulk-done]').text()).toBe('已处理 1 组');
    expect(wrapper.find('[data-bulk-failure="r2"]').text()).toBe('李雷 / 李雷：已被其他人处理过');
    // The done item leaves the list, the failed one stays to be looked at.
    expect(wrapper.find('[data-review="r1"]').exists()).toBe(false);
    expect(wrapper.find('[data-review="r2"]').exists()).toBe(true);
  });

  it('bulk keep-apart sends nothing when the confirmation is declined, and the chosen ids when accepted', async () => {
    const confirm = vi.fn(() => false);
    vi.stubGlobal('confirm', confirm);
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/identity/reviews?status=open') return { body: { items: reviews(), total: 2 } };
      if (call.path === '/api/admin/identity/reviews/bulk') return { body: { done: 1, failed: [] } };
      return undefined;
    });
    const wrapper = page();
    await flushPromises();
    await wrapper.find('[data-review="r2"] [data-action="select-review"]').setValue(true);
    await wrapper.find('[data-action="bulk-keep-apart"]').trigger('click');
    await flushPromises();
    expect(confirm).toHaveBeenCalledWith('将已选的 1 组标记为不是同一人？之后不会再提示这些客户为疑似重复。');
    expect(calls.some((c) => c.path === '/api/admin/identity/reviews/bulk')).toBe(false);
    confirm.mockReturnValue(true);
    await wrapper.find('[data-action="bulk-keep-apart"]').trigger('click');
    await flushPromises();
    expect(calls.at(-1)).toEqual({ method: 'POST', path: '/api/admin/identity/reviews/bulk', body: { ids: ['r2'], action: 'keep_apart' } });
    expect(wrapper.find('[data-review="r2"]').exists()).toBe(false);
    expect(wrapper.find('[data-bulk-failure="r2"]').exists()).toBe(false);
  });

  it('lists merges, undoes one after a confirmation, and shows an undone one as such', async () => {
    const confirm = vi.fn(() => true);
    vi.stubGlobal('confirm', confirm);
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/identity/merges') return { body: { items: merges() } };
      if (call.path === '/api/admin/identity/merges/m1/undo') return { body: { ok: true } };
      return undefined;
    });
    const wrapper = page('merges');
    await flushPromises();
    expect(calls[0]).toMatchObject({ method: 'GET', path: '/api/admin/identity/merges' });
    const m1 = wrapper.find('[data-merge="m1"]');
    expect(m1.text()).toContain('手机号相同');
    expect(m1.text()).toContain('自动合并');
    const m2 = wrapper.find('[data-merge="m2"]');
    expect(m2.text()).toContain('UnionID 相同');
    expect(m2.text()).toContain('人工合并');
    expect(m2.find('[data-undone]').text()).toMatch(/^已于 .+ 撤销$/);
    expect(m2.find('[data-action="undo-merge"]').exists()).toBe(false);
    await m1.find('[data-action="undo-merge"]').trigger('click');
    await flushPromises();
    expect(confirm).toHaveBeenCalledWith(expect.stringContaining('撤销这次合并？'));
    expect(calls.at(-1)).toMatchObject({ method: 'POST', path: '/api/admin/identity/merges/m1/undo' });
    expect(wrapper.find('[data-merge="m1"] [data-undone]').exists()).toBe(true);
    expect(wrapper.find('[data-merge="m1"] [data-action="undo-merge"]').exists()).toBe(false);
  });

  it('does not undo when the confirmation is declined; a 409 says it was already undone', async () => {
    const confirm = vi.fn(() => false);
    vi.stubGlobal('confirm', confirm);
    let undone = false;
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/identity/merges') return { body: { items: merges().map((m) => (m.id === 'm1' && undone ? { ...m, undoneAt: '2026-11-23T00:00:00.000Z' } : m)) } };
      if (call.path === '/api/admin/identity/merges/m1/undo') return (undone = true), { status: 409, body: { error: 'already_undone', message: 'identity: merge m1 was already undone at 2026-11-23T00:00:00.000Z' } };
      return undefined;
    });
    const wrapper = page('merges');
    await flushPromises();
    await wrapper.find('[data-merge="m1"] [data-action="undo-merge"]').trigger('click');
    await flushPromises();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    confirm.mockReturnValue(true);
    await wrapper.find('[data-merge="m1"] [data-action="undo-merge"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-merge="m1"] [data-merge-error]').text()).toBe('这次合并已经撤销过了');
    expect(wrapper.find('[data-merge="m1"] [data-undone]').exists()).toBe(true);
  });

  it('says what the page is for when nothing is open, with the one action: import leads', async () => {
    mockFetch((call) => (call.path === '/api/admin/identity/reviews?status=open' ? { body: { items: [], total: 0 } } : undefined));
    const wrapper = page();
    await flushPromises();
    const empty = wrapper.find('[data-empty-reviews]');
    expect(empty.text()).toContain('没有待审核的疑似重复客户');
    expect(empty.text()).toContain('同名且同公司');
    expect(wrapper.find('[data-bulk-bar]').exists()).toBe(false);
    await empty.find('[data-action="import-leads"]').trigger('click');
    expect(empty.find('[data-action="import-leads"]').text()).toBe('去导入线索');
    expect(location.hash).toBe('#/import/leads');
  });

  it('shows an API error on the page in Chinese, with a retry', async () => {
    let fail = true;
    mockFetch((call) => {
      if (call.path !== '/api/admin/identity/reviews?status=open') return undefined;
      return fail ? { status: 500, body: { error: 'internal', message: '数据库不可用' } } : { body: { items: reviews(), total: 2 } };
    });
    const wrapper = page();
    await flushPromises();
    expect(wrapper.find('[data-list-error]').text()).toContain('加载失败：500 数据库不可用');
    // An error is not an empty list: no "nothing to review" and no import action.
    expect(wrapper.find('[data-empty-reviews]').exists()).toBe(false);
    fail = false;
    await wrapper.find('[data-list-error] button').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-list-error]').exists()).toBe(false);
    expect(wrapper.find('[data-review="r1"]').exists()).toBe(true);
  });

  it('loads the next page from what is shown when there are more open items than one page', async () => {
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/identity/reviews?status=open') return { body: { items: reviews(), total: 3 } };
      if (call.path === '/api/admin/identity/reviews?status=open&offset=2') return { body: { items: [{ ...reviews()[1], id: 'r3' }], total: 3 } };
      return undefined;
    });
    const wrapper = page();
    await flushPromises();
    expect(wrapper.find('[data-review-shown]').text()).toBe('已显示 2 / 3 组');
    await wrapper.find('[data-action="load-more"]').trigger('click');
    await flushPromises();
    expect(calls.at(-1)?.path).toBe('/api/admin/identity/reviews?status=open&offset=2');
    expect(wrapper.find('[data-review="r3"]').exists()).toBe(true);
    expect(wrapper.find('[data-action="load-more"]').exists()).toBe(false);
  });

  it('speaks English in English mode', async () => {
    mockFetch((call) => (call.path === '/api/admin/identity/reviews?status=open' ? { body: { items: reviews(), total: 2 } } : undefined));
    const wrapper = page('reviews', 'en');
    await flushPromises();
    expect(wrapper.find('h2').text()).toContain('Duplicate review');
    expect(wrapper.find('[data-review="r1"] [data-review-reason]').text()).toBe('Same name and company (no shared phone)');
    expect(wrapper.find('[data-review="r1"] [data-action="merge-left"]').text()).toBe('Merge into left');
    expect(wrapper.find('[data-review="r1"] [data-action="merge-right"]').text()).toBe('Merge into right');
    expect(wrapper.find('[data-review="r1"] [data-action="keep-apart"]').text()).toBe('Not the same person');
    expect(wrapper.find('[data-action="bulk-merge"]').text()).toBe('Merge selected');
    expect(wrapper.find('[data-card="right"] [data-card-relations]').text()).toBe('zhaolei · Deleted');
    expect(wrapper.text()).not.toMatch(/console\.identity\./);
    // Only the customers' own data is in Chinese.
    const data = ['王芳', '李雷', '星河科技', '采购经理', '渠道活码·展会', '官网表单', '王', '李'];
    expect(wrapper.find('[data-card="right"] [data-card-sources]').text()).toContain('Lead · 官网表单');
    expect(data.reduce((text, word) => text.replaceAll(word, ''), wrapper.text())).not.toMatch(/[\u4e00-\u9fff]/);
  });
});

/** The import page uploads with XHR (for progress): a stand-in that answers one upload. */
describe('导入线索', () => {
  it('opens with leads chosen from #/import/leads, explains the columns, and shows the match report with a link to review', async () => {
    const sent = fakeXhr(200, { inserted: 5, matched: 3, probable: 2, unmatched: 1, rejected: [{ line: 7, reason: 'phone 格式不正确' }] });
    const wrapper = mount(ImportPage, { props: { initialKind: 'leads' }, global: { plugins: [consoleI18n()] } });
    expect((wrapper.find('select[name="kind"]').element as HTMLSelectElement).value).toBe('leads');
    expect(wrapper.find('select[name="kind"] option[value="leads"]').text()).toBe('线索（lead_id,name,phone,company,title,email,source,submitted_at）');
    expect(wrapper.find('[data-leads-hint]').text()).toContain('submitted_at 提交时间');
    const input = wrapper.find('input[type="file"]');
    Object.defineProperty(input.element, 'files', { value: [new File(['lead_id,name\nL-1,王芳\n'], 'leads.csv', { type: 'text/csv' })] });
    await input.trigger('change');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(sent[0]).toMatchObject({ method: 'POST', url: '/api/admin/import/leads' });
    const count = (c: string) => wrapper.find(`[data-lead-count="${c}"]`).text();
    expect(count('inserted')).toContain('新增');
    expect(count('inserted')).toContain('5');
    expect(count('matched')).toContain('已匹配');
    expect(count('probable')).toContain('待审核');
    expect(count('unmatched')).toContain('未匹配');
    expect(wrapper.find('[data-leads-rejected]').text()).toBe('拒绝 1 行');
    expect(wrapper.find('[data-table="rejected"]').text()).toContain('phone 格式不正确');
    const link = wrapper.find('[data-action="review-probable"]');
    expect(link.text()).toBe('去审核 2 组疑似重复');
    expect(link.attributes('href')).toBe('#/identity');
  });

  it('has no review link when nothing is probable, and other kinds still show their own report', async () => {
    fakeXhr(200, { inserted: 5, matched: 0, probable: 0, unmatched: 5, rejected: [] });
    const wrapper = mount(ImportPage, { props: { initialKind: 'leads' }, global: { plugins: [consoleI18n()] } });
    const input = wrapper.find('input[type="file"]');
    Object.defineProperty(input.element, 'files', { value: [new File(['x'], 'leads.csv', { type: 'text/csv' })] });
    await input.trigger('change');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-import-result="leads"]').exists()).toBe(true);
    expect(wrapper.find('[data-action="review-probable"]').exists()).toBe(false);
    const contacts = mount(ImportPage, { props: { initialKind: 'nonsense' }, global: { plugins: [consoleI18n()] } });
    expect((contacts.find('select[name="kind"]').element as HTMLSelectElement).value).toBe('contacts');
    expect(contacts.find('[data-leads-hint]').exists()).toBe(false);
  });
});
