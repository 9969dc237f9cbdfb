// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, ref } from 'vue';
import type { CustomerFilter } from '../../sidebar/src/shared/filter.ts';
import { COUNT_DEBOUNCE_MS, useLiveCount } from '../../sidebar/src/console/pages/segments/live-count.ts';
import { mockFetch } from './fetch-mock.ts';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function host() {
  const filter = ref<CustomerFilter>({});
  let live!: ReturnType<typeof useLiveCount>;
  const Host = defineComponent(() => {
    live = useLiveCount(filter);
    return () => h('span', { 'data-segment-count': '' }, String(live.count.value ?? '…'));
  });
  const wrapper = mount(Host);
  return { filter, wrapper, live: () => live };
}

describe('segment live count', () => {
  it('asks once per pause in editing, with the cleaned filter, and shows the answer', async () => {
    vi.useFakeTimers();
    const calls = mockFetch((call) => (call.path === '/api/admin/segments/count' ? { body: { count: (call.body as { filter: CustomerFilter }).filter.minOrders ?? 100 } } : undefined));
    const { filter, wrapper, live } = host();
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS);
    await flushPromises();
    expect(calls).toHaveLength(1);
    expect(wrapper.text()).toBe('100');
    // Five quick edits, each inside the debounce window: one request, for the last filter.
    for (const n of [1, 2, 3, 4, 5]) {
      filter.value = { ...filter.value, minOrders: n, tags: [] };
      await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS - 50);
    }
    expect(calls).toHaveLength(1);
    expect(live().counting.value).toBe(true);
    await vi.advanceTimersByTimeAsync(60);
    await flushPromises();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.body).toEqual({ filter: { minOrders: 5 } });
    expect(wrapper.text()).toBe('5');
    expect(live().counting.value).toBe(false);
    // An edit that means the same filter (an empty list) asks nothing.
    filter.value = { minOrders: 5, channels: [] };
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS * 2);
    expect(calls).toHaveLength(2);
  });

  it('never lets an older, slower answer overwrite a newer one', async () => {
    vi.useFakeTimers();
    const pending: Array<(n: number) => void> = [];
    vi.stubGlobal('fetch', (_path: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body)) as { filter: CustomerFilter };
      return new Promise<Response>((resolve) => pending.push(() => resolve(new Response(JSON.stringify({ count: body.filter.minOrders ?? 0 }), { status: 200 }))));
    });
    const { filter, wrapper } = host();
    filter.value = { minOrders: 1 };
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS);
    filter.value = { minOrders: 2 };
    await vi.advanceTimersByTimeAsync(COUNT_DEBOUNCE_MS);
    expect(pending).toHaveLength(2);
    pending[1]!(0);
    await flushPromises();
    expect(wrapper.text()).toBe('2');
    pending[0]!(0);
    await flushPromises();
    expect(wrapper.text()).toBe('2');
  });
});
