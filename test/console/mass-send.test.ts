// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import MassPreviewView from '../../sidebar/src/console/pages/mass-sends/MassPreviewView.vue';
import MassSendCompose from '../../sidebar/src/console/pages/mass-sends/MassSendCompose.vue';
import { mockFetch } from './fetch-mock.ts';
import { consoleI18n } from './i18n.ts';

afterEach(() => vi.unstubAllGlobals());

const preview = { total: 130, perRep: [{ userId: 'liuyang', customers: 80 }, { userId: 'wangfang', customers: 50 }], skipped: { optedOut: 3, capped: 2, noRelation: 0 } };

describe('群发 preview', () => {
  it('shows per rep how many customers they will be asked to send to, and who is skipped and why', () => {
    const wrapper = mount(MassPreviewView, { props: { preview }, global: { plugins: [consoleI18n()] } });
    expect(wrapper.find('[data-mass-preview-total]').text()).toBe('共 130 位客户，将由 2 位跟进人分别确认发送');
    expect(wrapper.find('[data-mass-rep="liuyang"] [data-mass-rep-count]').text()).toBe('80');
    expect(wrapper.find('[data-mass-rep="wangfang"] [data-mass-rep-count]').text()).toBe('50');
    expect(wrapper.find('[data-skip="optedOut"]').text()).toBe('3 位已退订，跳过');
    expect(wrapper.find('[data-skip="capped"]').text()).toBe('2 位超出发送频次上限，跳过');
    // A reason with nobody behind it is not listed.
    expect(wrapper.find('[data-skip="noRelation"]').exists()).toBe(false);
    expect(wrapper.find('[data-skip="none"]').exists()).toBe(false);
  });

  it('says when quiet hours hold the whole send back, and when it goes out otherwise', () => {
    const deferred = mount(MassPreviewView, {
      props: { preview: { ...preview, skipped: { ...preview.skipped, quietHours: { deferredTo: '2026-11-24T00:00:00.000Z' } }, goesAt: '2026-11-24T00:00:00.000Z' } },
      global: { plugins: [consoleI18n()] },
    });
    expect(deferred.find('[data-skip="quietHours"]').text()).toMatch(/^发送时间在免打扰时段内：将在 .+ 发出（免打扰结束时）$/);
    const now = mount(MassPreviewView, { props: { preview: { ...preview, goesAt: '2026-11-23T02:00:00.000Z' } }, global: { plugins: [consoleI18n()] } });
    expect(now.find('[data-skip="quietHours"]').exists()).toBe(false);
    expect(now.find('[data-mass-goes-at]').text()).toMatch(/^将在 .+ 发出$/);
  });

  it('says so when nobody would receive it, in English too', () => {
    const wrapper = mount(MassPreviewView, { props: { preview: { total: 0, perRep: [], skipped: { optedOut: 0, capped: 0, noRelation: 0 } } }, global: { plugins: [consoleI18n('en')] } });
    expect(wrapper.find('[data-mass-preview-empty]').text()).toBe('Nobody to send to');
    expect(wrapper.find('[data-skip="none"]').text()).toBe('Nobody skipped');
  });

  it('sends only what was previewed: an edit after the preview locks the send button again', async () => {
    const calls = mockFetch((call) => {
      if (call.path === '/api/admin/segments') return { body: { segments: [{ id: 'seg1', name: 'A类-高意向', filter: {}, count: 130 }] } };
      if (call.path === '/api/admin/mass-sends/preview') return { body: preview };
      if (call.path === '/api/admin/mass-sends' && call.method === 'POST') return { status: 201, body: { massSend: { id: 'm1' } } };
      if (call.path === '/api/admin/tags' || call.path === '/api/admin/channels') return { body: { tags: [], channels: [] } };
      if (call.path === '/api/admin/groups') return { body: { items: [] } };
      return undefined;
    });
    const wrapper = mount(MassSendCompose, { props: { start: 'seg1' }, global: { plugins: [consoleI18n()] } });
    await flushPromises();
    await wrapper.find('[data-field="mass-name"]').setValue('周五会员日');
    await wrapper.find('[data-field="text"]').setValue('本周五会员日，全场 8 折');
    const send = () => wrapper.find('[data-action="send-mass"]');
    expect(send().attributes('disabled')).toBeDefined();
    await wrapper.find('[data-action="preview-mass"]').trigger('click');
    await flushPromises();
    expect(calls.find((c) => c.path === '/api/admin/mass-sends/preview')?.body).toEqual({ content: { text: '本周五会员日，全场 8 折', attachments: [] }, audience: { segmentId: 'seg1' }, sendAt: null });
    expect(wrapper.find('[data-mass-rep="liuyang"]').exists()).toBe(true);
    expect(send().attributes('disabled')).toBeUndefined();
    await wrapper.find('[data-field="text"]').setValue('本周五会员日，全场 7 折');
    expect(send().attributes('disabled')).toBeDefined();
    expect(wrapper.find('[data-preview-stale]').exists()).toBe(true);
    await wrapper.find('[data-action="preview-mass"]').trigger('click');
    await flushPromises();
    await send().trigger('click');
    await flushPromises();
    expect(calls.at(-1)).toMatchObject({ method: 'POST', path: '/api/admin/mass-sends', body: { name: '周五会员日', audience: { segmentId: 'seg1' }, sendAt: null } });
    expect(location.hash).toBe('#/mass-sends/m1');
  });
});
