// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import JourneyPage from '../../sidebar/src/console/pages/journeys/JourneyPage.vue';
import type { Journey } from '../../sidebar/src/shared/journey.ts';
import { route } from '../../sidebar/src/console/route.ts';
import { mockFetch } from './fetch-mock.ts';
import { consoleI18n } from './i18n.ts';

const base = (call: { method: string; path: string }) => {
  if (call.path === '/api/admin/tags') return { body: { tags: [{ name: '意向客户' }] } };
  if (call.path === '/api/admin/channels') return { body: { channels: [{ state: 'douyin_618', name: '抖音 618' }] } };
  if (call.path === '/api/admin/sop/schedule/preview') return { body: { runs: [] } };
  return undefined;
};
const mountPage = (props: { planId: string | null; templateId: string | null }) => mount(JourneyPage, { props, global: { plugins: [consoleI18n()] } });

afterEach(() => {
  vi.unstubAllGlobals();
  location.hash = '';
});

describe('journey editor page', () => {
  it('starts a new journey with 新客添加 and one 欢迎语, builds a branch, and posts the journey', async () => {
    const calls = mockFetch((call) => base(call) ?? (call.path === '/api/admin/sop/plans' ? { status: 201, body: { plan: { id: 'p1' } } } : undefined));
    const page = mountPage({ planId: null, templateId: null });
    await flushPromises();
    expect(page.find('[data-trigger-words]').text()).toBe('新客添加');
    expect(page.findAll('[data-step]').map((s) => s.attributes('data-step-type'))).toEqual(['send_welcome']);
    expect((page.find('[data-step="welcome"] [data-step-name]').text())).toBe('欢迎语');

    // The channel choice lives on the start card's panel.
    await page.find('[data-channel="douyin_618"]').setValue(true);
    expect(page.find('[data-trigger-words]').text()).toBe('新客添加 · 抖音 618');

    await page.find('[data-action="add-step"][data-lane="main"]').trigger('click');
    await page.find('[data-add-menu="main"] [data-add-type="branch"]').trigger('click');
    await page.find('[data-field="after-days"]').setValue('2');
    expect(page.find('[data-wait="branch-1"]').text()).toBe('等待 2 天');
    await page.find('[data-action="add-step"][data-lane="branch-1:yes"]').trigger('click');
    await page.find('[data-add-menu="branch-1:yes"] [data-add-type="mass_send"]').trigger('click');
    await page.find('[data-field="text"]').setValue('回复过的');
    await page.find('[data-action="add-step"][data-lane="branch-1:no"]').trigger('click');
    await page.find('[data-add-menu="branch-1:no"] [data-add-type="mass_send"]').trigger('click');
    await page.find('[data-field="text"]').setValue('没回复的');
    await page.find('[data-action="add-step"][data-lane="main"]').trigger('click');
    await page.find('[data-add-menu="main"] [data-add-type="rep_task"]').trigger('click');
    expect(page.find('[data-unsaved]').exists()).toBe(true);

    await page.find('[data-action="save-journey"]').trigger('click');
    await flushPromises();
    const post = calls.find((c) => c.method === 'POST' && c.path === '/api/admin/sop/plans');
    const journey = (post?.body as { journey: Journey }).journey;
    expect(journey.trigger).toEqual({ type: 'contact_added', channels: ['douyin_618'], tags: [] });
    expect(journey.steps.map((s) => s.id)).toEqual(['welcome', 'branch-1', 'send-1', 'join-1', 'send-2', 'task-1']);
    expect(journey.steps[1]).toMatchObject({ type: 'branch', after: { days: 2 }, if: { replied: true }, then: 'send-1', else: 'send-2' });
    expect(journey.steps[0]).toMatchObject({ type: 'send_welcome', content: { text: expect.stringContaining('{{name}}') } });
    expect(journey.steps[0]).not.toHaveProperty('after');
    expect(location.hash).toBe('#/sop/p1');
  });

  it('shows the server problems on the step they belong to, and field by field in its panel', async () => {
    const plan = {
      id: 'p2',
      name: '培育',
      enabled: false,
      timeZone: 'Asia/Shanghai',
      version: 3,
      journey: { name: '培育', target: 'contact', trigger: { type: 'contact_tagged', tag: '意向客户' }, steps: [{ id: 'd1', type: 'mass_send', content: { text: '{{group}}', attachments: [] } }, { id: 'd2', type: 'rep_task', title: '回访', dueInDays: 1 }] },
    };
    const calls = mockFetch((call) => {
      const known = base(call);
      if (known) return known;
      if (call.path === '/api/admin/sop/plans/p2') return { body: { plan } };
      if (call.path.startsWith('/api/admin/sop/plans/p2/jobs')) return { body: { jobs: [] } };
      if (call.path === '/api/admin/sop/plans/p2/audience') return { body: { count: 0, sample: [] } };
      if (call.path === '/api/admin/sop/plans/p2/journey') {
        return { status: 400, body: { error: 'invalid_journey', message: 'x', problems: [{ path: 'steps[0].content.text', stepId: 'd1', message: '{{group}} has no value in a contact journey' }] } };
      }
      return undefined;
    });
    const page = mountPage({ planId: 'p2', templateId: null });
    await flushPromises();
    expect(page.find('[data-plan-version]').text()).toBe('v3');
    expect(page.find('[data-unsaved]').exists()).toBe(false);
    await page.find('[data-action="save-journey"]').trigger('click');
    await flushPromises();
    const put = calls.find((c) => c.method === 'PUT');
    // A plan nobody is in yet needs no keep/move choice.
    expect(put?.body).not.toHaveProperty('migrate');
    expect(page.find('[data-step="d1"]').classes()).toContain('invalid');
    expect(page.find('[data-step="d1"] [data-step-error]').text()).toContain('变量「group」');
    expect(page.find('[data-step="d2"]').classes()).not.toContain('invalid');
    // The step with the problem is opened, the message under its text box.
    expect(page.find('[data-panel="d1"] [data-error="text"]').text()).toContain('变量「group」');
    expect(page.find('[data-save-error]').text()).toContain('1 处');
  });

  it('asks keep or move before saving an enabled plan', async () => {
    const plan = { id: 'p3', name: 'x', enabled: true, timeZone: 'Asia/Shanghai', version: 1, journey: { name: 'x', target: 'contact', trigger: { type: 'order_placed' }, steps: [{ id: 'a', type: 'mass_send', content: { text: 'hi', attachments: [] } }] } };
    const calls = mockFetch((call) => {
      const known = base(call);
      if (known) return known;
      if (call.path === '/api/admin/sop/plans/p3') return { body: { plan } };
      if (call.path.startsWith('/api/admin/sop/plans/p3/jobs')) return { body: { jobs: [{}] } };
      if (call.path === '/api/admin/sop/plans/p3/audience') return { body: { count: 0, sample: [] } };
      if (call.path === '/api/admin/sop/plans/p3/journey') return { body: { plan: { ...plan, version: 2 } } };
      return undefined;
    });
    const page = mountPage({ planId: 'p3', templateId: null });
    await flushPromises();
    await page.find('[data-step="a"]').trigger('click');
    await page.find('[data-field="text"]').setValue('hi again');
    // Leaving by the hash route with unsaved work asks first; "stay" keeps the editor's address.
    const confirm = vi.fn(() => false);
    vi.stubGlobal('confirm', confirm);
    location.hash = '#/sop/p3/journey';
    await new Promise((r) => setTimeout(r, 0));
    location.hash = '#/channels';
    await new Promise((r) => setTimeout(r, 0));
    expect(confirm).toHaveBeenCalledWith('旅程还没有保存，确定离开？');
    expect(route.value.page).toBe('sop');
    await page.find('[data-action="save-journey"]').trigger('click');
    expect(page.find('[data-migrate]').exists()).toBe(true);
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);
    await page.find('[data-migrate-choice="move"]').setValue(true);
    await page.find('[data-action="confirm-save"]').trigger('click');
    await flushPromises();
    expect(calls.find((c) => c.method === 'PUT')?.body).toMatchObject({ migrate: 'move', journey: { steps: [{ id: 'a', content: { text: 'hi again' } }] } });
    expect(page.find('[data-saved]').text()).toBe('已保存，当前版本 v2');
    expect(page.find('[data-unsaved]').exists()).toBe(false);
  });
});

describe('journey editor page, editing in place', () => {
  const plan = {
    id: 'p4',
    name: '培育',
    enabled: false,
    timeZone: 'Asia/Shanghai',
    version: 1,
    journey: {
      name: '培育',
      target: 'contact',
      trigger: { type: 'order_placed' },
      steps: [
        { id: 'a', name: '第一天', type: 'mass_send', content: { text: '', attachments: [] } },
        { id: 'b', name: '回访', type: 'rep_task', title: '', dueInDays: 1 },
      ],
    },
  };
  const answers = (call: { method: string; path: string }) => {
    const known = base(call);
    if (known) return known;
    if (call.path === '/api/admin/sop/plans/p4') return { body: { plan } };
    if (call.path.startsWith('/api/admin/sop/plans/p4/jobs')) return { body: { jobs: [] } };
    if (call.path === '/api/admin/sop/plans/p4/audience') return { body: { count: 0, sample: [] } };
    if (call.path === '/api/admin/sop/plans/p4/journey') {
      return {
        status: 400,
        body: {
          error: 'invalid_journey',
          message: 'x',
          problems: [
            { path: 'steps[0].content.text', stepId: 'a', message: 'Too small: expected string to have >=1 characters' },
            { path: 'steps[1].title', stepId: 'b', message: 'Too small: expected string to have >=1 characters' },
          ],
        },
      };
    }
    return undefined;
  };

  it('takes a problem off the page when its field is fixed, and the banner with the last one', async () => {
    mockFetch(answers);
    const page = mountPage({ planId: 'p4', templateId: null });
    await flushPromises();
    await page.find('[data-action="save-journey"]').trigger('click');
    await flushPromises();
    expect(page.find('[data-save-error]').text()).toBe('还有 2 处需要修改，已在对应步骤上标出');
    expect(page.find('[data-panel="a"] [data-error="text"]').text()).toBe('不能为空');

    await page.find('[data-field="text"]').setValue('您好');
    expect(page.find('[data-step="a"] [data-step-error]').exists()).toBe(false);
    expect(page.find('[data-panel="a"] [data-error="text"]').exists()).toBe(false);
    expect(page.find('[data-step="b"] [data-step-error]').text()).toBe('不能为空');
    expect(page.find('[data-save-error]').text()).toBe('还有 1 处需要修改，已在对应步骤上标出');

    // Another field of the same step does not count as fixing it.
    await page.find('[data-step="b"]').trigger('click');
    await page.find('[data-field="task-detail"]').setValue('打个电话');
    expect(page.find('[data-step="b"] [data-step-error]').exists()).toBe(true);
    await page.find('[data-field="task-title"]').setValue('电话回访');
    expect(page.find('[data-step-error]').exists()).toBe(false);
    expect(page.find('[data-save-error]').exists()).toBe(false);
  });

  it('inserts a step after any step, in the main flow and in a lane', async () => {
    const calls = mockFetch((call) => (call.path === '/api/admin/sop/plans/p4/journey' ? { body: { plan: { ...plan, version: 2 } } } : answers(call)));
    const page = mountPage({ planId: 'p4', templateId: null });
    await flushPromises();
    // Only between steps: after the last one the lane's own 添加步骤 does it.
    expect(page.findAll('[data-action="insert-step"]').map((b) => b.attributes('data-after'))).toEqual(['a']);
    await page.find('[data-action="insert-step"][data-after="a"]').trigger('click');
    // A welcome can only be first, so it is not offered between steps.
    expect(page.findAll('[data-insert-menu="a"] [data-add-type]').map((b) => b.attributes('data-add-type'))).not.toContain('send_welcome');
    await page.find('[data-insert-menu="a"] [data-add-type="branch"]').trigger('click');
    expect(page.find('[data-insert-menu="a"]').exists()).toBe(false);
    expect(page.find('[data-panel]').attributes('data-panel')).toBe('branch-1');
    expect(page.findAll('[data-lane="main"] > [data-step]').map((s) => s.attributes('data-step'))).toEqual(['a', 'branch-1', 'b']);

    // In the 是 lane: two steps added at the end, then a third put between them.
    await page.find('[data-action="add-step"][data-lane="branch-1:yes"]').trigger('click');
    await page.find('[data-add-menu="branch-1:yes"] [data-add-type="mass_send"]').trigger('click');
    await page.find('[data-action="add-step"][data-lane="branch-1:yes"]').trigger('click');
    await page.find('[data-add-menu="branch-1:yes"] [data-add-type="tag"]').trigger('click');
    // One menu at a time: opening the insert menu shuts the lane's own.
    await page.find('[data-action="add-step"][data-lane="branch-1:yes"]').trigger('click');
    await page.find('[data-lane="branch-1:yes"] [data-action="insert-step"][data-after="send-1"]').trigger('click');
    expect(page.findAll('.add-menu')).toHaveLength(1);
    expect(page.find('[data-add-menu="branch-1:yes"]').exists()).toBe(false);
    await page.find('[data-insert-menu="send-1"] [data-add-type="rep_task"]').trigger('click');
    expect(page.findAll('[data-lane="branch-1:yes"] > [data-step]').map((s) => s.attributes('data-step'))).toEqual(['send-1', 'task-1', 'tag-1']);

    await page.find('[data-action="save-journey"]').trigger('click');
    await flushPromises();
    const put = calls.find((c) => c.method === 'PUT')?.body as { journey: Journey };
    // The 否 lane is empty, so the 是 lane simply runs on into 回访: no hidden jump is needed.
    expect(put.journey.steps.map((s) => s.id)).toEqual(['a', 'branch-1', 'send-1', 'task-1', 'tag-1', 'b']);
    expect(put.journey.steps[1]).toMatchObject({ then: 'send-1', else: 'b' });
  });
});
