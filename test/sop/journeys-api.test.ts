import { describe, expect, it } from 'vitest';
import { DAY, MONDAY_10, useSopApi } from './api-harness.ts';

const f = useSopApi();

type PlanView = { id: string; enabled: boolean; version: number; builtIn: boolean; journey: { steps: Array<{ id: string }> }; nextRuns: string[]; nextRun: string | null };
type Problems = { error: string; message: string; problems: Array<{ path: string; stepId: string | null; message: string; line?: number }> };

/** contact_added via the 展会 channel → welcome with {{name}} → wait 2 days → branch on replied → two mass sends → rep task. */
const EXPO_JOURNEY = {
  name: '展会获客',
  trigger: { type: 'contact_added', channels: ['expo-2026'] },
  steps: [
    { id: 'welcome', type: 'send_welcome', content: { text: '{{name}}您好，感谢在展会上添加我们' } },
    { id: 'check', type: 'branch', after: { days: 2 }, if: { replied: true }, then: 'thanks', else: 'nudge' },
    { id: 'nudge', type: 'mass_send', content: { text: '{{name}}，展会资料已整理好，回复 1 获取' } },
    // The lanes rejoin at the rep task: a branch naming the same step both ways.
    { id: 'rejoin', type: 'branch', if: { replied: true }, then: 'call', else: 'call' },
    { id: 'thanks', type: 'mass_send', content: { text: '{{name}}，谢谢您的回复，这是您要的资料' } },
    { id: 'call', type: 'rep_task', title: '展会客户回访' },
  ],
};

describe('journeys written inline', () => {
  it('creates and enables a plan from an inline journey, which runs for a contact added through its channel', async () => {
    // The built-in welcome would take the single-use welcome code first.
    const builtIn = (await f.api.call<{ plans: PlanView[] }>('GET', '/plans')).body.plans.find((p) => p.builtIn)!;
    await f.api.call('POST', `/plans/${builtIn.id}/disable`);

    const created = await f.api.call<{ plan: PlanView }>('POST', '/plans', { name: '展会获客', enabled: true, journey: EXPO_JOURNEY });
    expect(created.status).toBe(201);
    expect(created.body.plan).toMatchObject({ enabled: true, version: 1, nextRuns: [], journey: { steps: EXPO_JOURNEY.steps.map((s) => ({ id: s.id })) } });

    const scan = f.sim.scanChannelQr({ customer: { name: '展会王女士' }, userid: 'lina', state: 'expo-2026' });
    const externalUserId = scan.contact.externalUserid;
    await f.h.pool.upsertFromWecom({ externalUserId, name: '展会王女士', type: 1, follows: [{ userId: 'lina', addedAt: f.clock.now(), tagIds: [] }] }, f.clock.now());
    await f.h.sop.engine.onContactAdded({ externalUserId, userId: 'lina', state: 'expo-2026', welcomeCode: scan.welcomeCode!, at: f.clock.now() });
    await f.h.sop.engine.worker.drain();
    expect(f.sim.calls('/externalcontact/send_welcome_msg')).toEqual([
      expect.objectContaining({ body: expect.objectContaining({ text: { content: '展会王女士您好，感谢在展会上添加我们' } }) }),
    ]);

    f.clock.advance(2 * DAY);
    await f.h.sop.engine.worker.drain();
    const jobs = (await f.api.call<{ jobs: Array<{ stepId: string; outcome: string; version: number }> }>('GET', `/contacts/${externalUserId}/jobs`)).body.jobs;
    expect(Object.fromEntries(jobs.map((j) => [j.stepId, [j.outcome, j.version]]))).toEqual({
      welcome: ['sent', 1],
      check: ['branched', 1],
      nudge: ['sent', 1],
      rejoin: ['branched', 1],
      call: ['task_created', 1],
    });
    expect([...f.sim.state.massTasks.values()].map((t) => t.text?.content)).toEqual(['展会王女士，展会资料已整理好，回复 1 获取']);
    await f.api.call('POST', `/plans/${builtIn.id}/enable`);
  });

  it('answers 400 naming the step and the missing step id of a broken reference', async () => {
    const steps = [
      { id: 'hello', type: 'mass_send', content: { text: '你好' } },
      { id: 'check', type: 'branch', if: { replied: true }, then: 'nowhere' },
    ];
    const res = await f.api.call<Problems>('POST', '/plans', { name: '坏引用', journey: { name: '坏引用', trigger: { type: 'contact_tagged', tag: 'x' }, steps } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_journey');
    expect(res.body.message).toContain('steps[1].then: no step has id "nowhere"');
    expect(res.body.problems).toContainEqual({ path: 'steps[1].then', stepId: 'check', message: 'no step has id "nowhere"' });

    const plan = (await f.api.call<{ plan: PlanView }>('POST', '/plans', { name: '好', journey: { name: '好', trigger: { type: 'contact_tagged', tag: 'x' }, steps: steps.slice(0, 1) } })).body.plan;
    const replaced = await f.api.call<Problems>('PUT', `/plans/${plan.id}/journey`, { journey: { name: '好', trigger: { type: 'contact_tagged', tag: 'x' }, steps } });
    expect(replaced.status).toBe(400);
    expect(replaced.body.problems[0]).toMatchObject({ path: 'steps[1].then', stepId: 'check' });
    expect((await f.api.call<{ plan: PlanView }>('GET', `/plans/${plan.id}`)).body.plan.version).toBe(1);
  });

  it('refuses both or neither of templateId and journey', async () => {
    expect((await f.api.call('POST', '/plans', { name: 'x' })).status).toBe(400);
    expect((await f.api.call('POST', '/plans', { name: 'x', templateId: 'welcome', journey: EXPO_JOURNEY })).status).toBe(400);
  });
});

describe('schedules a person can read', () => {
  it('shows the next five runs in the plan time zone, and previews a trigger being edited', async () => {
    f.clock.set(MONDAY_10);
    const journey = { name: '周一周四群推', target: 'group', trigger: { type: 'schedule', cron: '0 10 * * 1,4' }, steps: [{ id: 'push', type: 'mass_send', content: { text: '本周精选' } }] };
    const plan = (await f.api.call<{ plan: PlanView }>('POST', '/plans', { name: '周一周四群推', journey, timeZone: 'Asia/Shanghai' })).body.plan;
    // 10:00 in Shanghai is 02:00 UTC; Monday 10:00 itself has just passed.
    expect(plan.nextRuns).toEqual(['2026-11-26T02:00:00.000Z', '2026-11-30T02:00:00.000Z', '2026-12-03T02:00:00.000Z', '2026-12-07T02:00:00.000Z', '2026-12-10T02:00:00.000Z']);

    const once = await f.api.call<{ runs: string[] }>('POST', '/schedule/preview', { trigger: { type: 'schedule', at: '2026-12-12T20:00' }, timeZone: 'Asia/Shanghai' });
    expect(once.body.runs).toEqual(['2026-12-12T12:00:00.000Z']);
    const monthly = await f.api.call<{ runs: string[] }>('POST', '/schedule/preview', { trigger: { type: 'schedule', cron: '0 10 1 * *' } });
    expect(monthly.body.runs).toEqual(['2026-12-01T02:00:00.000Z', '2027-01-01T02:00:00.000Z', '2027-02-01T02:00:00.000Z', '2027-03-01T02:00:00.000Z', '2027-04-01T02:00:00.000Z']);

    const bad = await f.api.call<Problems>('POST', '/schedule/preview', { trigger: { type: 'schedule', cron: '0 25 * * *' } });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toEqual([expect.objectContaining({ path: 'trigger.cron', message: expect.stringContaining('hour') })]);
    const both = await f.api.call<Problems>('POST', '/schedule/preview', { trigger: { type: 'schedule', cron: '0 10 * * 1', at: '2026-12-12T20:00' } });
    expect(both.body.problems[0]).toMatchObject({ path: 'trigger.cron', message: expect.stringContaining('exactly one') });
    const badDate = await f.api.call<Problems>('POST', '/schedule/preview', { trigger: { type: 'schedule', at: '2026-02-30T20:00' } });
    expect(badDate.body.problems[0]?.path).toBe('trigger.at');
  });
});

describe('the template library', () => {
  it('saves a plan as a template, duplicates, exports, imports and deletes it', async () => {
    const plan = (await f.api.call<{ plan: PlanView }>('POST', '/plans', { name: '展会获客 2', journey: EXPO_JOURNEY })).body.plan;
    const saved = await f.api.call<{ template: { id: string; name: string; source: string } }>('POST', '/templates', { planId: plan.id, name: '展会模板' });
    expect(saved.status).toBe(201);
    expect(saved.body.template).toMatchObject({ id: 'journey', name: '展会模板', source: 'user' });

    const listed = (await f.api.call<{ templates: Array<{ id: string; source: string; createdAt?: string }> }>('GET', '/templates')).body.templates;
    expect(listed.filter((t) => t.source === 'builtin')).toHaveLength(6);
    expect(listed.find((t) => t.id === 'journey')).toMatchObject({ source: 'user', createdAt: expect.any(String) });

    const copy = await f.api.call<{ template: { id: string; name: string; source: string } }>('POST', '/templates/welcome/duplicate');
    expect(copy.status).toBe(201);
    expect(copy.body.template).toMatchObject({ id: 'welcome-copy', source: 'user', name: expect.stringMatching(/（副本）$/) });

    const builtIn = await f.api.call<{ error: string }>('DELETE', '/templates/welcome');
    expect(builtIn).toMatchObject({ status: 400, body: { error: 'builtin_template' } });

    const exported = await f.api.text('/templates/journey/export');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toMatch(/^text\/yaml/);
    expect(exported.headers.get('content-disposition')).toContain('journey.yaml');
    expect(exported.text).toContain('then: thanks');

    const imported = await f.api.call<{ template: { id: string; steps: unknown[]; trigger: unknown } }>('POST', '/templates/import', { yaml: exported.text });
    expect(imported.status).toBe(201);
    expect(imported.body.template.id).toBe('journey-2');
    expect(imported.body.template.steps).toEqual((await f.h.sop.models.UserTemplate.findOne({ templateId: 'journey' }).lean())!.journey.steps);

    const planYaml = await f.api.text(`/plans/${plan.id}/journey/export`);
    expect(planYaml.text).toContain('name: 展会获客');

    const broken = exported.text.replace('then: thanks', 'then: nowhere');
    const refused = await f.api.call<Problems>('POST', '/templates/import', { yaml: broken });
    expect(refused.status).toBe(400);
    const line = broken.split('\n').findIndex((l) => l.includes('then: nowhere')) + 1;
    expect(refused.body.problems).toContainEqual({ path: 'steps[1].then', stepId: 'check', message: 'no step has id "nowhere"', line, column: expect.any(Number) });
    const syntax = await f.api.call<Problems>('POST', '/templates/import', { yaml: 'name: x\nsteps: [\n' });
    expect(syntax.body.problems[0]).toMatchObject({ line: expect.any(Number), message: expect.stringMatching(/^YAML syntax/) });

    const inline = await f.api.call<{ template: { id: string; source: string } }>('POST', '/templates', { journey: { ...EXPO_JOURNEY, id: 'expo' } });
    expect(inline.body.template).toMatchObject({ id: 'expo', source: 'user' });
    const unknownKey = await f.api.call<Problems>('POST', '/templates', { journey: { ...EXPO_JOURNEY, colour: 'red' } });
    expect(unknownKey.body.problems).toEqual([{ path: 'colour', stepId: null, message: 'unknown key "colour"' }]);

    expect((await f.api.call('DELETE', '/templates/journey')).body).toEqual({ deleted: 'journey' });
    expect((await f.api.call('DELETE', '/templates/journey')).status).toBe(404);
    // A plan can start from the operator's own template too.
    const fromCopy = await f.api.call<{ plan: { templateId: string } }>('POST', '/plans', { name: '复制的欢迎', templateId: 'welcome-copy' });
    expect(fromCopy.body.plan.templateId).toBe('welcome-copy');
  });
});
