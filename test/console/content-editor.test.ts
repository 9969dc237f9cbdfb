// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, ref } from 'vue';
import ContentEditor from '../../sidebar/src/shared/ContentEditor.vue';
import SchedulePicker from '../../sidebar/src/shared/SchedulePicker.vue';
import type { Content, ScheduleTrigger, Target } from '../../sidebar/src/shared/journey.ts';
import { previewTarget } from '../../sidebar/src/shared/preview.ts';
import { mockFetch } from './fetch-mock.ts';
import { consoleI18n } from './i18n.ts';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  previewTarget.value = '';
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

  it('previews for the customer the operator picks, with the engine renderer', async () => {
    const calls = mockFetch((call) => (call.path === '/api/admin/sop/preview' ? { body: { text: '张先生您好', missing: ['company'] } } : undefined));
    const { wrapper } = editor('contact', '{{name}}您好');
    await wrapper.find('[data-field="preview-for"]').setValue('wm_zhang');
    await new Promise((r) => setTimeout(r, 450));
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
    await new Promise((r) => setTimeout(r, 350));
    await flushPromises();
    expect(calls.at(-1)?.body).toEqual({ trigger: { type: 'schedule', cron: '0 10 * * 1,4' }, timeZone: 'Asia/Shanghai' });
    expect(wrapper.find('[data-schedule-runs]').text()).toBe('2026-12-07 周一 10:00');
    await wrapper.find('[data-kind="once"]').setValue(true);
    await wrapper.find('[data-field="schedule-at"]').setValue('2026-12-12T20:00');
    expect(trigger.value).toEqual({ type: 'schedule', at: '2026-12-12T20:00' });
  });
});
