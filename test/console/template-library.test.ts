// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import TemplateLibrary from '../../sidebar/src/console/pages/sop/TemplateLibrary.vue';
import type { Template } from '../../sidebar/src/console/sop.ts';
import { mockFetch } from './fetch-mock.ts';
import { consoleI18n } from './i18n.ts';

const tpl = (id: string, source: 'builtin' | 'user'): Template => ({ id, name: id, description: '', target: 'contact', trigger: { type: 'order_placed' }, steps: [], quietHours: { start: '22:00', end: '08:00' }, source });

afterEach(() => vi.unstubAllGlobals());

describe('template library', () => {
  it('lists built-in and own templates; only own ones can be deleted', () => {
    mockFetch(() => undefined);
    const wrapper = mount(TemplateLibrary, { props: { templates: [tpl('welcome', 'builtin'), tpl('mine-1', 'user')] }, global: { plugins: [consoleI18n()] } });
    expect(wrapper.find('[data-template="welcome"] [data-action="delete-template"]').exists()).toBe(false);
    expect(wrapper.find('[data-template="mine-1"] [data-action="delete-template"]').exists()).toBe(true);
    expect(wrapper.find('[data-template="welcome"] [data-action="export-template"]').attributes('href')).toBe('/api/admin/sop/templates/welcome/export');
  });

  it('shows an import error with its line number, in Chinese', async () => {
    const calls = mockFetch((call) =>
      call.path === '/api/admin/sop/templates/import'
        ? { status: 400, body: { error: 'invalid_journey', message: 'x', problems: [{ path: 'steps[1].then', stepId: 'check', line: 14, message: 'no step has id "nowhere"' }] } }
        : undefined,
    );
    const wrapper = mount(TemplateLibrary, { props: { templates: [] }, global: { plugins: [consoleI18n()] } });
    expect(wrapper.find('[data-empty-templates]').exists()).toBe(true);
    const input = wrapper.find('[data-action="import-yaml"]');
    const file = new File(['id: x\n'], 'x.yaml', { type: 'text/yaml' });
    Object.defineProperty(input.element, 'files', { value: [file] });
    await input.trigger('change');
    await flushPromises();
    await new Promise((r) => setTimeout(r, 10));
    await flushPromises();
    expect(calls[0]?.body).toEqual({ yaml: 'id: x\n' });
    expect(wrapper.find('[data-import-error]').text()).toContain('第 14 行 · steps[1].then · 没有 id 为「nowhere」的步骤');
  });
});
