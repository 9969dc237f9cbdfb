// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import JobsTable from '../../sidebar/src/console/pages/plan/JobsTable.vue';
import { JOB_OUTCOMES, JOB_STATUSES, outcomeWords, statusWords, zonedTime, type Job } from '../../sidebar/src/console/pages/plan/jobs.ts';
import type { Step } from '../../sidebar/src/shared/journey.ts';
import { consoleI18n, translator } from './i18n.ts';

const steps: Step[] = [
  { id: 'welcome', name: '欢迎语', type: 'send_welcome', content: { text: 'hi', attachments: [] } },
  { id: 'branch-1', name: '是否回复', type: 'branch', if: { replied: true }, then: 'send-1', else: 'send-2' },
  { id: 'send-1', type: 'mass_send', content: { text: 'a', attachments: [] } },
  { id: 'join-1', type: 'branch', if: { replied: true }, then: 'task-1', else: 'task-1' },
  { id: 'send-2', name: '上手指南', type: 'mass_send', content: { text: 'b', attachments: [] } },
  { id: 'task-1', name: '电话回访', type: 'rep_task', title: 'x', dueInDays: 1 },
];
const job = (stepId: string, status: string, outcome: string | null, extra: Partial<Job> = {}): Job => ({
  _id: stepId, stepId, targetId: 'wm_1', status, version: 1, outcome, attempts: 1, dueAt: '2026-05-03T02:00:00.000Z', lastError: null, send: null, ...extra,
});

describe('plan execution view', () => {
  it('names steps as the operator does, says status and outcome in words, keeps the codes, and shows the plan’s clock', () => {
    const jobs = [
      job('welcome', 'done', 'sent'),
      job('branch-1', 'done', 'branched', { detail: { holds: true } }),
      job('send-1', 'done', 'capped'),
      job('join-1', 'done', 'branched', { detail: { holds: true } }),
      job('task-1', 'pending', null),
      job('old-3', 'dead', 'failed'),
    ];
    const table = mount(JobsTable, { props: { jobs, steps, timeZone: 'Asia/Shanghai' }, global: { plugins: [consoleI18n()] } });
    const rows = table.findAll('[data-job-row]');
    expect(rows.map((r) => r.attributes('data-job-step'))).toEqual(['welcome', 'branch-1', 'send-1', 'join-1', 'task-1', 'old-3']);
    expect(rows.map((r) => r.attributes('data-job-outcome'))).toEqual(['sent', 'branched', 'capped', 'branched', '', 'failed']);
    expect(rows.map((r) => r.find('[data-job-step-name]').text())).toEqual(['欢迎语', '是否回复', '群发消息 send-1', '汇合', '电话回访', 'old-3（新版本已删除此步骤）']);
    expect(rows.map((r) => r.find('[data-job-outcome-words]').text())).toEqual(['已发送', '条件成立，走「是」', '因频次上限未发送', '条件成立，走「是」', '—', '执行失败']);
    expect(rows.map((r) => r.find('[data-job-status-words]').text())).toEqual(['已完成', '已完成', '已完成', '已完成', '待执行', '失败，不再重试']);
    expect(rows[2]!.find('[data-job-outcome-words]').attributes('title')).toBe('capped');
    expect(rows[4]!.find('[data-job-status-words]').attributes('title')).toBe('pending');
    expect(rows[1]!.find('[data-job-step-name]').attributes('title')).toBe('branch-1');
    // 02:00 UTC is 10:00 in Shanghai whatever zone the browser is in.
    expect(rows[0]!.findAll('td')[6]!.text()).toBe('2026-05-03 10:00');
    expect(table.find('[data-jobs-zone]').text()).toBe('计划时间（Asia/Shanghai）');
  });

  it('says which happened to a capped message (moved to which day, or not sent) and which variable held a step back', () => {
    const t = translator();
    const deferredTo = '2026-11-24T00:00:00.000Z';
    expect(outcomeWords({ outcome: null, detail: { deferredTo, capPolicy: 'defer' } }, t, 'Asia/Shanghai')).toBe('因频次上限顺延至 2026-11-24 08:00');
    expect(outcomeWords({ outcome: 'sent', detail: { deferredTo } }, t, 'Asia/Shanghai')).toBe('已发送（因频次上限顺延至 2026-11-24 08:00）');
    expect(outcomeWords({ outcome: 'capped', detail: { capPolicy: 'drop' } }, t)).toBe('因频次上限未发送');
    expect(outcomeWords({ outcome: 'capped', detail: { capPolicy: 'defer', beyondCatchUp: true, maxLatenessHours: 12 } }, t)).toBe('因频次上限未发送（顺延将超过补发时限 12 小时）');
    expect(outcomeWords({ outcome: 'held_missing_variable', detail: { variables: ['company'] } }, t)).toBe('缺少变量 company，未发送');
    expect(outcomeWords({ outcome: 'held_missing_variable', detail: { variables: ['company'] } }, translator('en'))).toBe('Missing variable company, not sent');
  });

  it('has words for every status and outcome the engine writes, in Chinese and English', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const t = translator(locale);
      for (const status of JOB_STATUSES) expect(statusWords(status, t)).not.toMatch(new RegExp(`^(console\\.|${status}$)`));
      for (const outcome of JOB_OUTCOMES) expect(outcomeWords({ outcome, detail: null }, t)).not.toMatch(/^console\.|_/);
    }
    // A code the page does not know yet is shown as it is, not as a missing key.
    expect(outcomeWords({ outcome: 'brand_new', detail: null }, translator())).toBe('brand_new');
    expect(zonedTime('2026-01-01T00:30:00Z', 'America/New_York')).toBe('2025-12-31 19:30');
    expect(zonedTime('2026-01-01T16:00:00Z', 'Asia/Shanghai')).toBe('2026-01-02 00:00');
  });
});
