// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import CsvExport from '../../sidebar/src/console/pages/customers/CsvExport.vue';
import { fetchCsv, rowCounter, type CsvProgress } from '../../sidebar/src/shared/csv-stream.ts';
import { consoleI18n } from './i18n.ts';

afterEach(() => vi.unstubAllGlobals());

/** A streamed CSV answer whose chunks the test releases one by one. */
function streamed(chunks: string[], total: number | null) {
  const encoder = new TextEncoder();
  // Node 20 has no Promise.withResolvers: a gate is a promise and its resolve.
  const gates = chunks.map(() => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  });
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i >= chunks.length) return controller.close();
      await gates[i]!.promise;
      controller.enqueue(encoder.encode(chunks[i++]!));
    },
  });
  const headers: Record<string, string> = { 'content-type': 'text/csv; charset=utf-8' };
  if (total !== null) headers['x-total-count'] = String(total);
  const urls: string[] = [];
  vi.stubGlobal('fetch', async (url: string) => {
    urls.push(url);
    return new Response(body, { status: 200, headers });
  });
  return { release: (n: number) => gates[n]!.resolve(), urls };
}

describe('CSV export progress', () => {
  it('counts data rows across chunks, not newlines inside quoted cells, nor the header', () => {
    const count = rowCounter();
    expect(count('\uFEFF姓名,备注\r\n张伟,"第一行', false)).toBe(0);
    expect(count('\n第二行"\r\n李娜,', false)).toBe(1);
    expect(count('无', true)).toBe(2);
  });

  it('reports rows read against X-Total-Count while the body streams', async () => {
    const stream = streamed(['姓名,订单\r\n', '张伟,1\r\n李娜,2\r\n', '王芳,3\r\n'], 3);
    const seen: CsvProgress[] = [];
    const done = fetchCsv('/x.csv', (p) => seen.push({ ...p }));
    stream.release(0);
    stream.release(1);
    stream.release(2);
    const blob = await done;
    expect(seen.map((p) => p.rows)).toEqual([0, 0, 2, 3, 3]);
    expect(seen.every((p) => p.total === 3)).toBe(true);
    expect(await blob.text()).toContain('王芳,3');
  });

  it('draws the bar on the list page with the filter in the URL, then says how many rows were saved', async () => {
    const stream = streamed(['姓名\r\n', '张伟\r\n李娜\r\n', '王芳\r\n'], 3);
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => undefined }));
    const wrapper = mount(CsvExport, { props: { filter: { channels: ['offline-expo'], minOrders: 1 }, sort: { field: 'addedAt', dir: 'desc' } }, global: { plugins: [consoleI18n()] } });
    await wrapper.find('[data-action="export-csv"]').trigger('click');
    stream.release(0);
    stream.release(1);
    await new Promise((r) => setTimeout(r, 5));
    await flushPromises();
    expect(stream.urls[0]).toBe('/api/admin/contacts/export.csv?channel=offline-expo&minOrders=1&sort=addedAt%3Adesc');
    expect(wrapper.find('[data-export-rows]').text()).toBe('已导出 2 / 3 行');
    expect(wrapper.find('[data-export-progress]').attributes('max')).toBe('3');
    expect(wrapper.find('[data-action="export-csv"]').attributes('disabled')).toBeDefined();
    stream.release(2);
    await new Promise((r) => setTimeout(r, 5));
    await flushPromises();
    expect(wrapper.find('[data-export-progress]').exists()).toBe(false);
    expect(wrapper.find('[data-export-done]').text()).toBe('已导出 3 行');
  });
});
