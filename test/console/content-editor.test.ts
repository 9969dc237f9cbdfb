// @vitest-environment happy-dom
import { enableAutoUnmount, flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, ref } from 'vue';
import ContentEditor from '../../sidebar/src/shared/ContentEditor.vue';
import SchedulePicker from '../../sidebar/src/shared/SchedulePicker.vue';
import type { Content, ScheduleTrigger, Target } from '../../sidebar/src/shared/journey.ts';
import { previewLabel, previewTarget } from '../../sidebar/src/shared/preview.ts';
import { eventually } from '../support/eventually.ts';
import { mockFetch } from './fetch-mock.ts';
import { consoleI18n } from './i18n.ts';

// The preview target is shared page state: an editor left mounted by an earlier test would preview too.
enableAutoUnmount(afterEach);

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  previewTarget.value = '';
  previewLabel.value = '';
});

function editor(target: Target, text = '') {
  const content = ref<Content>({ text, attachments: [] });
  const Host = defineComponent(() => () => h(ContentEditor, { modelValue: content.value, 'onUpdate:modelValue': (v: Content) => (content.value = v), target }));
  return { content, wrapper: mount(Host, { global: { plugins: [consoleI18n()] } }) };
}

describe('content editor', () => {
  it('offers only the variables the target has, and inserts them where the caret is', async () => {
    mockFetch(() => undefined);
    const contact = editor('contact', '您好');
    const options = contact.wrapper.findAll('[data-action="insert-variable"] option').map((o) => o.attributes('value'));
    expect(options).toEqual(['', 'name', 'rep', 'company', 'date']);
    const box = contact.wrapper.find('textarea').element as HTMLTextAreaElement;
    box.setSelectionRange(0, 0);
    await contact.wrapper.find('[data-action="insert-variable"]').setValue('name');
    expect(contact.content.value.text).toBe('{{name}}您好');
    const group = editor('group');
    expect(group.wrapper.findAll('[data-action="insert-variable"] option').map((o) => o.attributes('value'))).toEqual(['', 'rep', 'group', 'date']);
  });

  it('counts against the 4000 limit and caps attachments at 9', async () => {
    mockFetch(() => undefined);
    const { wrapper, content } = editor('contact', 'x'.repeat(4001));
    expect(wrapper.find('[data-counter]').text()).toBe('4001 / 4000 字');
    expect(wrapper.find('[data-counter]').classes()).toContain('error');
    for (let i = 0; i < 10; i++) await wrapper.find('[data-action="add-attachment"][data-kind="link"]').trigger('click');
    expect(content.value.attachments).toHaveLength(9);
    expect(wrapper.find('[data-action="add-attachment"]').attributes('disabled')).toBeDefined();
  });

  it('previews for the customer the operator finds by name, with the engine renderer', async () => {
    const zhang = { externalUserId: 'wm_zhang', name: '张伟', corpName: '星河科技', reps: [{ userId: 'liuyang', status: 'active', remark: '张先生' }] };
    const li = { externalUserId: 'wm_li', name: '张丽', reps: [] };
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/sop/preview') return { body: { text: '张先生您好', missing: ['company'] } };
      if (call.path.startsWith('/api/admin/contacts?')) return { body: { total: 2, items: [zhang, li], nextCursor: null } };
      return undefined;
    });
    const { wrapper } = editor('contact', '{{name}}您好');
    const box = wrapper.find('[data-field="preview-for"]');
    await box.trigger('focus');
    await box.setValue('张');
    // The search is debounced: wait for it to reach the server, not for a fixed time.
    await eventually(async () => calls.find((c) => c.path.startsWith('/api/admin/contacts?')), 'the contact search');
    await flushPromises();
    expect(calls.filter((c) => c.path.startsWith('/api/admin/contacts?')).at(-1)?.path).toBe('/api/admin/contacts?q=%E5%BC%A0&limit=8');
    const options = wrapper.findAll('[data-contact-option]');
    expect(options.map((o) => o.attributes('data-contact-option'))).toEqual(['wm_zhang', 'wm_li']);
    // The rep's remark is how the operator knows them; the company tells two 张 apart.
    expect(options[0]!.text()).toContain('张先生（张伟）');
    expect(options[0]!.text()).toContain('星河科技');
    expect(options[1]!.text()).toContain('未填公司');
    // Nothing is previewed until one is chosen: typing a name is not an id.
    expect(calls.some((c) => c.path === '/api/admin/sop/preview')).toBe(false);
    await box.trigger('keydown', { key: 'ArrowDown' });
    await box.trigger('keydown', { key: 'ArrowUp' });
    await box.trigger('keydown', { key: 'Enter' });
    expect(wrapper.find('[data-contact-options]').exists()).toBe(false);
    expect((box.element as HTMLInputElement).value).toBe('张先生（张伟）');
    expect(previewTarget.value).toBe('wm_zhang');
    await eventually(async () => calls.find((c) => (c.body as { externalUserId?: string } | undefined)?.externalUserId === 'wm_zhang'), 'the preview for the chosen customer');
    await flushPromises();
    expect(calls.at(-1)?.body).toEqual({ content: { text: '{{name}}您好', attachments: [] }, target: 'contact', externalUserId: 'wm_zhang' });
    expect(wrapper.find('[data-preview]').text()).toBe('张先生您好');
    expect(wrapper.find('[data-preview-missing]').text()).toContain('{{company}}');
  });
});

describe('schedule picker', () => {
  it('writes the cron the picker shows, says it in words and lists the next runs', async () => {
    const calls = mockFetch((call) => (call.path === '/api/admin/sop/schedule/preview' ? { body: { runs: ['2026-12-07T02:00:00.000Z'] } } : undefined));
    const trigger = ref<ScheduleTrigger>({ type: 'schedule', cron: '0 10 * * 1' });
    const Host = defineComponent(() => () => h(SchedulePicker, { modelValue: trigger.value, 'onUpdate:modelValue': (v: ScheduleTrigger) => (trigger.value = v), timeZone: 'Asia/Shanghai' }));
    const wrapper = mount(Host, { global: { plugins: [consoleI18n()] } });
    await wrapper.find('[data-weekday="4"]').setValue(true);
    expect(trigger.value).toEqual({ type: 'schedule', cron: '0 10 * * 1,4' });
    expect(wrapper.find('[data-schedule-words]').text()).toBe('每周一、周四 10:00');
    await eventually(async () => calls.find((c) => (c.body as { trigger?: { cron?: string } } | undefined)?.trigger?.cron === '0 10 * * 1,4'), 'the next-runs request');
    await flushPromises();
    expect(calls.at(-1)?.body).toEqual({ trigger: { type: 'schedule', cron: '0 10 * * 1,4' }, timeZone: 'Asia/Shanghai' });
    expect(wrapper.find('[data-schedule-runs]').text()).toBe('2026-12-07 周一 10:00');
    await wrapper.find('[data-kind="once"]').setValue(true);
    await wrapper.find('[data-field="schedule-at"]').setValue('2026-12-12T20:00');
    expect(trigger.value).toEqual({ type: 'schedule', at: '2026-12-12T20:00' });
  });
});
