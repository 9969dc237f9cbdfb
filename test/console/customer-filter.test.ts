// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, nextTick, ref } from 'vue';
import FilterBuilder from '../../sidebar/src/shared/FilterBuilder.vue';
import { filterOptions } from '../../sidebar/src/shared/customers.ts';
import { cleanFilter, daysAgo, filterToQuery, queryToFilter, yuanToFen, type CustomerFilter } from '../../sidebar/src/shared/filter.ts';
import { mockFetch, settle } from './fetch-mock.ts';
import { consoleI18n } from './i18n.ts';

afterEach(() => vi.unstubAllGlobals());

describe('customer filter ↔ query parameters', () => {
  const full: CustomerFilter = {
    q: '张',
    tags: ['A类-高意向', '会员'],
    anyTags: ['复购'],
    notTags: ['退订'],
    stages: ['repeat', 'dormant'],
    channels: ['offline-expo'],
    reps: ['liuyang'],
    status: 'active',
    addedFrom: '2026-01-01',
    addedTo: '2026-03-31',
    inactiveSince: '2026-04-01',
    minScore: 0,
    maxScore: 80,
    minOrders: 1,
    minSpentFen: 19900,
    groups: ['wr_1'],
  };

  it('writes the contract names, repeating the plural ones, and reads them back to the same filter', () => {
    const query = filterToQuery(full, { field: 'score', dir: 'desc' });
    expect(query.getAll('tag')).toEqual(['A类-高意向', '会员']);
    expect(query.getAll('anyTag')).toEqual(['复购']);
    expect(query.getAll('notTag')).toEqual(['退订']);
    expect(query.getAll('stage')).toEqual(['repeat', 'dormant']);
    expect(query.get('channel')).toBe('offline-expo');
    expect(query.get('group')).toBe('wr_1');
    expect(query.get('minSpentFen')).toBe('19900');
    // 0 is a real lower bound, not "no condition".
    expect(query.get('minScore')).toBe('0');
    expect(query.get('sort')).toBe('score:desc');
    expect(queryToFilter(new URLSearchParams(query.toString()))).toEqual({ filter: full, sort: { field: 'score', dir: 'desc' } });
  });

  it('leaves out empty parts and the default status, and drops what it does not know when reading', () => {
    expect(filterToQuery({ q: '  ', tags: [], status: 'all', minOrders: undefined }).toString()).toBe('');
    expect(cleanFilter({ tags: ['a', 'a', ' '], channels: [] })).toEqual({ tags: ['a'] });
    const read = queryToFilter(new URLSearchParams('stage=nonsense&stage=new&minOrders=x&status=gone&sort=name:up'));
    expect(read).toEqual({ filter: { stages: ['new'] }, sort: null });
  });

  it('turns yuan into fen without float noise', () => {
    expect(yuanToFen(0.1 + 0.2)).toBe(30);
    expect(yuanToFen(199)).toBe(19900);
    expect(yuanToFen(undefined)).toBeUndefined();
  });
});

describe('filter builder', () => {
  function mountBuilder(start: CustomerFilter = {}) {
    mockFetch((call) => {
      if (call.path === '/api/admin/tags') return { body: { tags: [{ tagId: 't1', name: 'A类-高意向', groupName: '意向' }, { tagId: 't2', name: '会员', groupName: '身份' }] } };
      if (call.path === '/api/admin/channels') return { body: { channels: [{ state: 'offline-expo', name: '线下展会' }, { state: 'web', name: '官网' }] } };
      if (call.path === '/api/admin/groups') return { body: { items: [] } };
      return undefined;
    });
    const filter = ref<CustomerFilter>(start);
    const Host = defineComponent(() => () => h(FilterBuilder, { modelValue: filter.value, 'onUpdate:modelValue': (v: CustomerFilter) => (filter.value = v) }));
    return { filter, wrapper: mount(Host, { global: { plugins: [consoleI18n()] } }) };
  }

  it('edits the one filter object the query is built from', async () => {
    filterOptions.tags.value = [];
    const { filter, wrapper } = mountBuilder();
    await settle();
    await nextTick();
    await wrapper.find('[data-filter="channels"] [data-channel="offline-expo"]').setValue(true);
    await wrapper.find('[data-tag-picker="tags"] [data-action="add-tag"]').setValue('A类-高意向');
    await wrapper.find('[data-filter="minOrders"]').setValue('1');
    await wrapper.find('[data-filter="minSpent"]').setValue('99.9');
    await wrapper.find('[data-filter="stages"] [data-stage="repeat"]').setValue(true);
    await wrapper.find('[data-quick="inactive-7"]').trigger('click');
    expect(filter.value).toEqual({ channels: ['offline-expo'], tags: ['A类-高意向'], minOrders: 1, minSpentFen: 9990, stages: ['repeat'], inactiveSince: daysAgo(7) });
    expect(filterToQuery(filter.value).toString()).toBe(
      `tag=A%E7%B1%BB-%E9%AB%98%E6%84%8F%E5%90%91&stage=repeat&channel=offline-expo&inactiveSince=${daysAgo(7)}&minOrders=1&minSpentFen=9990`,
    );
    expect(wrapper.find('[data-filter-count]').text()).toBe('6 个条件');
    // Clearing a number box removes the condition instead of filtering on 0.
    await wrapper.find('[data-filter="minOrders"]').setValue('');
    expect(filter.value.minOrders).toBeUndefined();
    await wrapper.find('[data-tag-chip="A类-高意向"] [data-action="remove-tag"]').trigger('click');
    expect(filter.value.tags).toBeUndefined();
    await wrapper.find('[data-action="reset-filter"]').trigger('click');
    expect(filter.value).toEqual({});
  });

  it('shows a saved filter as it was saved, yuan for fen', async () => {
    const { wrapper } = mountBuilder({ minSpentFen: 19900, notTags: ['会员'], channels: ['web'] });
    await settle();
    await nextTick();
    expect((wrapper.find('[data-filter="minSpent"]').element as HTMLInputElement).value).toBe('199');
    expect(wrapper.find('[data-tag-picker="notTags"] [data-tag-chip="会员"]').exists()).toBe(true);
    expect((wrapper.find('[data-channel="web"]').element as HTMLInputElement).checked).toBe(true);
  });
});
