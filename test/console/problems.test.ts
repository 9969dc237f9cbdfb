import { describe, expect, it } from 'vitest';
import type { Journey } from '../../sidebar/src/shared/journey.ts';
import { countProblems, explainProblem, fieldProblems, mapProblems, pruneProblems, valueAt } from '../../sidebar/src/console/pages/journeys/problems.ts';
import { translator } from './i18n.ts';

describe('server problems → the place on the page', () => {
  const sent = { steps: [{ id: 'welcome' }, { id: 'check' }, { id: 'join-1' }, { id: 'day2' }], owners: new Map([['join-1', 'check']]) };

  it('puts step problems on their step, by stepId or by index, with the field', () => {
    const mapped = mapProblems(
      [
        { path: 'steps[0].content.text', stepId: 'welcome', message: '{{group}} has no value in a contact journey' },
        { path: 'steps[1].then', stepId: null, message: 'no step has id "nowhere"' },
        { path: 'steps[2]', stepId: 'join-1', message: 'x' },
        { path: 'steps[3].content.attachments[0].url', stepId: 'day2', message: 'Invalid URL' },
        { path: 'trigger.cron', stepId: null, message: 'minute field "99" is invalid (minute: 0-59)' },
        { path: 'name', stepId: null, message: 'Too small: expected string to have >=1 characters' },
      ],
      sent,
    );
    expect(mapped.steps.welcome).toEqual([{ field: 'content.text', message: '{{group}} has no value in a contact journey' }]);
    expect(mapped.steps.check).toEqual([{ field: 'then', message: 'no step has id "nowhere"' }, { field: '', message: 'x' }]);
    expect(fieldProblems(mapped.steps.day2, 'content')).toHaveLength(1);
    expect(fieldProblems(mapped.steps.day2, 'content.attachments[0]')).toHaveLength(1);
    expect(fieldProblems(mapped.steps.day2, 'content.text')).toHaveLength(0);
    expect(mapped.trigger).toEqual([{ field: 'cron', message: 'minute field "99" is invalid (minute: 0-59)' }]);
    expect(mapped.journey).toEqual([{ field: 'name', message: 'Too small: expected string to have >=1 characters' }]);
  });

  it('keeps YAML line numbers and tells the common problems in Chinese', () => {
    const mapped = mapProblems([{ path: 'steps[5].then', stepId: null, line: 14, message: 'no step has id "x"' }], { steps: [], owners: new Map() });
    expect(mapped.journey).toEqual([{ field: 'steps[5].then', line: 14, message: 'no step has id "x"' }]);
    const t = translator();
    expect(explainProblem('no step has id "nowhere"', t)).toBe('没有 id 为「nowhere」的步骤');
    expect(explainProblem('send_welcome must be the first step: because', t)).toContain('欢迎语必须是第一步');
    expect(explainProblem('Too small: expected string to have >=1 characters', t)).toBe('不能为空');
    expect(explainProblem('{{compny}} is not a variable (known: name, rep, company, group, date)', t)).toBe('没有「compny」这个变量（可用：name、rep、company、group、date）');
    expect(explainProblem('something new', t)).toBe('something new');
  });

  it('drops a problem once the field it points at changes, and only that one', () => {
    const sentJourney: Journey = {
      name: 'x',
      target: 'contact',
      trigger: { type: 'schedule', cron: '99 10 * * *' },
      steps: [
        { id: 'a', type: 'mass_send', content: { text: '', attachments: [{ type: 'link', title: 't', url: 'bad' }] } },
        { id: 'b', type: 'rep_task', title: '', dueInDays: 1 },
      ],
    };
    const problems = mapProblems(
      [
        { path: 'steps[0].content.text', stepId: 'a', message: 'Too small: expected string to have >=1 characters' },
        { path: 'steps[0].content.attachments[0].url', stepId: 'a', message: 'Invalid URL' },
        { path: 'steps[1].title', stepId: 'b', message: 'Too small' },
        { path: 'trigger.cron', stepId: null, message: 'minute field "99" is invalid' },
        { path: 'name', stepId: null, message: 'Too small' },
      ],
      { steps: sentJourney.steps, owners: new Map() },
    );
    expect(valueAt(sentJourney.steps[0], 'content.attachments[0].url')).toBe('bad');
    expect(pruneProblems(problems, sentJourney, structuredClone(sentJourney))).toEqual(problems);

    const fixed = structuredClone(sentJourney);
    const first = fixed.steps[0]!;
    if (first.type === 'mass_send') first.content.text = '您好';
    fixed.trigger = { type: 'schedule', cron: '0 10 * * *' };
    let left = pruneProblems(problems, sentJourney, fixed);
    expect(left.steps.a?.map((p) => p.field)).toEqual(['content.attachments[0].url']);
    expect(left.steps.b).toHaveLength(1);
    expect(left.trigger).toEqual([]);
    expect(left.journey).toHaveLength(1);
    expect(countProblems(left)).toBe(3);

    // A deleted step takes its problems with it.
    fixed.steps = fixed.steps.slice(0, 1);
    fixed.name = 'y';
    if (first.type === 'mass_send') first.content.attachments = [];
    left = pruneProblems(left, sentJourney, fixed);
    expect(countProblems(left)).toBe(0);
  });
});
