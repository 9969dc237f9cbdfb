import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, startHttpServer, type RunningHttpServer } from '../../server/src/http/index.ts';
import { Health, createLogger, createMetrics } from '../../server/src/observability/index.ts';
import { startWecomSimulator, type WecomSimulator } from '../../server/src/wecom-simulator/index.ts';
import { openTestStore } from '../support/db.ts';
import { TestClock, buildSop, type SopHarness } from './harness.ts';

const TOKEN = 'sop-admin-token-0123456789';
let store: Awaited<ReturnType<typeof openTestStore>>;
let sim: WecomSimulator;
let h: SopHarness;
let http: RunningHttpServer;
let base: string;

beforeAll(async () => {
  store = await openTestStore();
  const clock = new TestClock(new Date('2026-11-23T13:30:00Z').getTime()); // 21:30 in Shanghai
  sim = await startWecomSimulator({ seed: 'demo' });
  h = await buildSop(store.connection, sim, clock);
  const app = createApp({ logger: createLogger({ level: 'silent' }), metrics: createMetrics(), health: new Health(), bodyLimitKb: 64, modules: [h.sop.http] });
  http = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${http.port}/api/admin/sop`;
});

afterAll(async () => {
  await http?.close(1_000);
  await sim?.close();
  await store?.dispose();
});

async function call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

type PlanView = { id: string; name: string; enabled: boolean; nextRun: string | null; builtIn: boolean };

describe('SOP operator API', () => {
  it('refuses requests without the admin token', async () => {
    expect((await fetch(`${base}/plans`)).status).toBe(401);
  });

  it('lists the shipped templates, and the built-in welcome plan', async () => {
    const templates = await call<{ templates: Array<{ id: string }>; errors: unknown[] }>('GET', '/templates');
    expect(templates.body.templates.map((t) => t.id).sort()).toEqual(['event-invite', 'group-weekly', 'nurture-7d', 'renewal', 'welcome', 'winback']);
    expect(templates.body.errors).toEqual([]);
    const plans = await call<{ plans: PlanView[] }>('GET', '/plans');
    expect(plans.body.plans).toEqual([expect.objectContaining({ builtIn: true, enabled: true, name: expect.stringContaining('新客欢迎') })]);
  });

  it('narrows an audience by lifecycle stage, computed from behaviour at enrolment', async () => {
    const now = new Date('2026-11-23T13:30:00Z');
    const byName = async (name: string) => (await h.contacts.Contact.findOne({ name }).lean())!.externalUserId;
    // 陈静 bought once and wrote yesterday (首购); 孙丽 wrote yesterday but never bought (新客); the others are quiet (沉睡).
    const chen = await byName('陈静');
    const sun = await byName('孙丽');
    const yesterday = new Date(now.getTime() - 86_400_000);
    await h.pool.addTimeline({ externalUserId: chen, at: yesterday, kind: 'order_paid', key: 'stage-test:order' });
    await h.pool.addTimeline({ externalUserId: sun, at: yesterday, kind: 'message_in', key: 'stage-test:msg', data: { text: '你好' } });
    const audienceOf = async (stages: string[]) => {
      const created = await call<{ plan: PlanView }>('POST', '/plans', { name: `按阶段 ${stages.join(',')}`, templateId: 'nurture-7d', audience: { tags: ['A类-高意向'], stages } });
      expect(created.status).toBe(201);
      return (await call<{ count: number; sample: Array<{ id: string }> }>('GET', `/plans/${created.body.plan.id}/audience`)).body;
    };
    expect((await audienceOf(['first_purchase'])).sample.map((t) => t.id)).toEqual([chen]);
    expect((await audienceOf(['new', 'first_purchase'])).count).toBe(2);
    expect((await call('POST', '/plans', { name: 'x', templateId: 'nurture-7d', audience: { stages: ['vip'] } })).status).toBe(400);
  });

  it('creates a plan from a template, previews its audience, dry-runs it, and switches it on', async () => {
    const created = await call<{ plan: PlanView }>('POST', '/plans', { name: '高意向客户培育', templateId: 'nurture-7d', audience: { tags: ['A类-高意向'] } });
    expect(created.status).toBe(201);
    const id = created.body.plan.id;
    expect(created.body.plan.enabled).toBe(false);

    const audience = await call<{ count: number; sample: Array<{ id: string; userId: string }> }>('GET', `/plans/${id}/audience`);
    expect(audience.body.count).toBe(3); // 陈静, 孙丽, 黄婷 carry A类-高意向 in the demo corp

    const dry = await call<{ runs: Array<{ target: { id: string }; steps: Array<{ stepId: string; text?: string; sendsAt: string; dueAt: string; notes: string[] }> }> }>('POST', `/plans/${id}/dry-run`);
    expect(dry.body.runs).toHaveLength(3);
    const first = dry.body.runs[0]!.steps[0]!;
    expect(first.text).toBeTruthy();
    expect(first.text).not.toMatch(/\{\{/);
    expect(await h.sop.models.Job.countDocuments()).toBe(0); // a dry run stores nothing

    const enabled = await call<{ plan: PlanView }>('POST', `/plans/${id}/enable`);
    expect(enabled.body.plan.enabled).toBe(true);
    const patched = await call<{ plan: PlanView }>('PATCH', `/plans/${id}`, { name: '高意向客户培育（新）' });
    expect(patched.body.plan.name).toBe('高意向客户培育（新）');
  });

  it('shows the next run of a schedule plan', async () => {
    const created = await call<{ plan: PlanView }>('POST', '/plans', { name: '周推', templateId: 'group-weekly', enabled: true });
    expect(created.body.plan.nextRun).toBe('2026-11-30T02:00:00.000Z'); // next Monday 10:00 Shanghai (the clock is Monday 21:30)
    const dry = await call<{ runs: Array<{ steps: Array<{ notes: string[] }> }> }>('POST', `/plans/${created.body.plan.id}/dry-run`);
    expect(dry.body.runs).toHaveLength(2); // the demo corp's two groups
  });

  it('lets a plan override its template’s quiet hours and catch-up policy', async () => {
    const created = await call<{ plan: PlanView & { quietHours: unknown; catchUp: unknown } }>('POST', '/plans', {
      name: '晚间不打扰',
      templateId: 'renewal',
      quietHours: { start: '21:00', end: '09:00' },
    });
    expect(created.body.plan.quietHours).toEqual({ start: '21:00', end: '09:00' });
    expect(created.body.plan.catchUp).toEqual(h.sop.templates.find((t) => t.id === 'renewal')!.catchUp);
    const patched = await call<{ plan: { quietHours: unknown; catchUp: unknown } }>('PATCH', `/plans/${created.body.plan.id}`, {
      quietHours: null,
      catchUp: { policy: 'skip', maxLatenessHours: 2 },
    });
    expect(patched.body.plan).toMatchObject({ quietHours: { start: '22:00', end: '08:00' }, catchUp: { policy: 'skip', maxLatenessHours: 2 } });
    const bad = await call<{ issues: Array<{ path: string }> }>('PATCH', `/plans/${created.body.plan.id}`, { quietHours: { start: '25:00', end: '08:00' } });
    expect(bad.body.issues[0]?.path).toBe('quietHours.start');
  });

  it('keeps a plan’s choice for capped messages: defer by default, drop when asked', async () => {
    const created = await call<{ plan: PlanView & { capPolicy: string } }>('POST', '/plans', { name: '频次', templateId: 'renewal' });
    expect(created.body.plan.capPolicy).toBe('defer');
    const patched = await call<{ plan: { capPolicy: string } }>('PATCH', `/plans/${created.body.plan.id}`, { capPolicy: 'drop' });
    expect(patched.body.plan.capPolicy).toBe('drop');
    const bad = await call<{ issues: Array<{ path: string }> }>('PATCH', `/plans/${created.body.plan.id}`, { capPolicy: 'later' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0]?.path).toBe('capPolicy');
  });

  it('keeps a plan’s re-entry rule: the journey’s until set, per_days needs its days', async () => {
    type Reentry = { reentry: { mode: string; days?: number }; reentryDefault: boolean };
    const created = await call<{ plan: PlanView & Reentry }>('POST', '/plans', { name: '重复进入', templateId: 'renewal' });
    expect(created.body.plan).toMatchObject({ reentry: { mode: 'per_days', days: 180 }, reentryDefault: true });
    const patched = await call<{ plan: Reentry }>('PATCH', `/plans/${created.body.plan.id}`, { reentry: { mode: 'every_time' } });
    expect(patched.body.plan).toMatchObject({ reentry: { mode: 'every_time' }, reentryDefault: false });
    const noDays = await call<{ issues: Array<{ path: string; message: string }> }>('PATCH', `/plans/${created.body.plan.id}`, { reentry: { mode: 'per_days' } });
    expect(noDays.status).toBe(400);
    expect(noDays.body.issues[0]).toMatchObject({ path: 'reentry.days', message: expect.stringContaining('天数') });
    const reset = await call<{ plan: Reentry }>('PATCH', `/plans/${created.body.plan.id}`, { reentry: null });
    expect(reset.body.plan).toMatchObject({ reentry: { mode: 'per_days', days: 180 }, reentryDefault: true });
  });

  it('keeps score bounds in a plan’s audience and refuses crossed or out-of-range ones in Chinese', async () => {
    const created = await call<{ plan: PlanView & { audience: { minScore?: number | null; maxScore?: number | null } } }>('POST', '/plans', {
      name: '高分客户',
      templateId: 'renewal',
      audience: { tags: [], channels: [], reps: [], groups: [], stages: ['repeat'], minScore: 60, maxScore: 100 },
    });
    expect(created.status).toBe(201);
    expect(created.body.plan.audience).toMatchObject({ stages: ['repeat'], minScore: 60, maxScore: 100 });
    const crossed = await call<{ issues: Array<{ path: string; message: string }> }>('PATCH', `/plans/${created.body.plan.id}`, { audience: { minScore: 80, maxScore: 20 } });
    expect(crossed.status).toBe(400);
    expect(crossed.body.issues[0]).toEqual({ path: 'audience.maxScore', message: '评分上限不能低于下限' });
    const outOfRange = await call<{ issues: Array<{ path: string; message: string }> }>('PATCH', `/plans/${created.body.plan.id}`, { audience: { minScore: 120 } });
    expect(outOfRange.body.issues[0]).toEqual({ path: 'audience.minScore', message: '评分下限须在 0–100 之间' });
  });

  it('names the field in every invalid request', async () => {
    const unknownTemplate = await call<{ message: string }>('POST', '/plans', { name: 'x', templateId: 'nope' });
    expect(unknownTemplate.status).toBe(400);
    expect(unknownTemplate.body.message).toMatch(/^templateId: no template "nope"/);
    const badBody = await call<{ issues: Array<{ path: string }> }>('POST', '/plans', { name: '', templateId: 'welcome', extra: 1 });
    expect(badBody.status).toBe(400);
    expect(badBody.body.issues.map((i) => i.path).sort()).toEqual(['', 'name']);
    const badZone = await call<{ issues: Array<{ path: string }> }>('POST', '/plans', { name: 'x', templateId: 'welcome', timeZone: 'Mars/Base' });
    expect(badZone.body.issues[0]?.path).toBe('timeZone');
    expect((await call('GET', '/plans/not-an-id')).status).toBe(400);
    expect((await call('GET', '/plans/0123456789abcdef01234567')).status).toBe(404);
    expect((await call('GET', '/plans/0123456789abcdef01234567/jobs?limit=5000')).status).toBe(404);
  });

  it('deletes a plan and cancels its pending jobs', async () => {
    const created = await call<{ plan: PlanView }>('POST', '/plans', { name: '临时', templateId: 'renewal', enabled: true });
    const id = created.body.plan.id;
    const plan = (await h.sop.models.Plan.findById(id))!;
    const chen = (await h.contacts.Contact.findOne({ name: '陈静' }).lean())!;
    await h.sop.engine.enrol(plan, { kind: 'contact', id: chen.externalUserId, userId: 'zhangwei' }, 'manual');
    const jobs = await call<{ jobs: Array<{ status: string }> }>('GET', `/plans/${id}/jobs?status=pending`);
    expect(jobs.body.jobs).toHaveLength(1);
    const deleted = await call<{ cancelledJobs: number }>('DELETE', `/plans/${id}`);
    expect(deleted.body.cancelledJobs).toBe(1);
    expect((await call('GET', `/plans/${id}`)).status).toBe(404);
    const history = await call<{ jobs: Array<{ outcome: string }> }>('GET', `/contacts/${chen.externalUserId}/jobs`);
    expect(history.body.jobs.map((j) => j.outcome)).toContain('plan_disabled');
  });
});
