// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ImportPage from '../../sidebar/src/console/pages/ImportPage.vue';
import { fakeXhr } from './fake-xhr.ts';
import { consoleI18n } from './i18n.ts';

afterEach(() => vi.unstubAllGlobals());

async function uploadContacts(answer: unknown, placeholders: boolean) {
  const sent = fakeXhr(200, answer);
  const wrapper = mount(ImportPage, { global: { plugins: [consoleI18n()] } });
  if (placeholders) await wrapper.find('input[name="createPlaceholderReps"]').setValue(true);
  const input = wrapper.find('input[type="file"]');
  Object.defineProperty(input.element, 'files', { value: [new File(['x'], 'contacts.csv', { type: 'text/csv' })] });
  await input.trigger('change');
  await wrapper.find('form').trigger('submit');
  await flushPromises();
  return { wrapper, sent };
}

describe('导入客户：企业微信的数据为准', () => {
  it('lists each kept value by line and asks for placeholders only when the operator ticks the box', async () => {
    const answer = {
      inserted: 0,
      updated: 1,
      rejected: [{ line: 4, code: 'unknown_rep', error: '第 4 行：跟进人 ghost 不是企业微信通讯录里的成员' }],
      conflicts: [{ line: 3, externalUserId: 'wm-wecom', field: 'name', kept: '王总', offered: '王五' }],
    };
    const { wrapper, sent } = await uploadContacts(answer, false);
    expect(wrapper.find('label[data-option="createPlaceholderReps"]').text()).toBe('为未知跟进人创建占位成员');
    expect(sent[0]!.url).toBe('/api/admin/import/contacts');
    const cells = wrapper.findAll('[data-table="conflicts"] tbody tr td').map((td) => td.text());
    expect(cells).toEqual(['3', 'wm-wecom', '姓名', '王总', '王五']);
    expect(wrapper.find('[data-table="rejected"]').text()).toContain('跟进人 ghost');

    const ticked = await uploadContacts({ inserted: 1, updated: 0, rejected: [], placeholderReps: ['ghost'] }, true);
    expect(ticked.sent[0]!.url).toBe('/api/admin/import/contacts?createPlaceholderReps=true');
    expect(ticked.wrapper.find('[data-table="conflicts"]').exists()).toBe(false);
    expect(ticked.wrapper.find('[data-placeholder-reps]').text()).toBe('已创建占位成员：ghost');
  });
});
