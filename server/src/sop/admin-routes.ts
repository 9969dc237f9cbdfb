import mongoose, { type HydratedDocument } from 'mongoose';
import { z } from 'zod';
import { type AppContext, type Guard, type HttpModule } from '../http/index.ts';
import type { SopEngine } from './engine.ts';
import { planSettings, type Plan, type SopModels } from './models.ts';
import { STAGES } from './conditions.ts';
import { dryRun } from './dry-run.ts';
import { nextCronRun } from './time.ts';
import type { StepRunner } from './steps.ts';
import { catchUpSchema, quietHoursSchema, type SopTemplate, type TemplateError } from './templates/index.ts';

const objectId = z.string().regex(/^[0-9a-f]{24}$/i, 'must be a plan id (24 hex characters)');
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Asia/Shanghai');
const audience = z
  .object({
    tags: z.array(z.string().min(1)).max(50).default([]),
    channels: z.array(z.string().min(1).max(30)).max(200).default([]),
    reps: z.array(z.string().min(1)).max(1000).default([]),
    groups: z.array(z.string().min(1)).max(1000).default([]),
    stages: z.array(z.enum(STAGES)).max(STAGES.length).default([]),
  })
  .strict();
const createPlan = z
  .object({
    name: z.string().trim().min(1).max(60),
    templateId: z.string().min(1),
    audience: audience.default({ tags: [], channels: [], reps: [], groups: [], stages: [] }),
    timeZone: timeZone.optional(),
    quietHours: quietHoursSchema.nullable().optional(),
    catchUp: catchUpSchema.nullable().optional(),
    enabled: z.boolean().default(false),
  })
  .strict();
const updatePlan = z
  .object({
    name: z.string().trim().min(1).max(60),
    audience,
    timeZone,
    quietHours: quietHoursSchema.nullable(),
    catchUp: catchUpSchema.nullable(),
    enabled: z.boolean(),
  })
  .partial()
  .strict();
const jobQuery = z.object({
  status: z.enum(['pending', 'running', 'done', 'dead']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export interface SopAdminDeps {
  models: SopModels;
  engine: SopEngine;
  runner: StepRunner;
  templates: () => { templates: SopTemplate[]; errors: TemplateError[] };
  adminGuard: Guard;
  timeZone: string;
  now: () => Date;
}

/** The operator API: templates, plans, audience preview, dry run, and what each plan's jobs did. */
export function sopAdminModule(deps: SopAdminDeps): HttpModule {
  const { Plan, Job } = deps.models;

  const planOr404 = async (ctx: AppContext): Promise<HydratedDocument<Plan>> => {
    const plan = await Plan.findById(objectId.parse(ctx.params.id));
    if (!plan) ctx.throw(404, `no plan ${ctx.params.id}`);
    return plan;
  };
  const view = (plan: HydratedDocument<Plan>) => ({
    id: String(plan._id),
    name: plan.name,
    templateId: plan.templateId,
    templateName: plan.template.name,
    trigger: plan.template.trigger,
    target: plan.template.target,
    audience: plan.audience,
    timeZone: plan.timeZone,
    ...planSettings(plan),
    enabled: plan.enabled,
    builtIn: plan.builtIn,
    nextRun: plan.enabled ? nextRun(plan, deps.now()) : null,
    createdAt: plan.createdAt,
    updatedAt: plan.updatedAt,
  });

  return {
    name: 'sop-admin',
    mount(router) {
      const admin = deps.adminGuard;

      router.get('/api/admin/sop/templates', admin, (ctx) => {
        const { templates, errors } = deps.templates();
        ctx.body = { templates, errors: errors.map((e) => ({ ...e, text: e.toString() })) };
      });

      router.get('/api/admin/sop/plans', admin, async (ctx) => {
        const plans = await Plan.find().sort({ createdAt: 1 });
        const counts = await Job.aggregate<{ _id: { planId: unknown; status: string }; n: number }>([
          { $group: { _id: { planId: '$planId', status: '$status' }, n: { $sum: 1 } } },
        ]);
        ctx.body = {
          plans: plans.map((plan) => ({
            ...view(plan),
            jobs: Object.fromEntries(counts.filter((c) => String(c._id.planId) === String(plan._id)).map((c) => [c._id.status, c.n])),
          })),
        };
      });

      router.post('/api/admin/sop/plans', admin, async (ctx) => {
        const body = createPlan.parse(ctx.request.body);
        const template = deps.templates().templates.find((t) => t.id === body.templateId);
        if (!template) ctx.throw(400, `templateId: no template "${body.templateId}" (GET /api/admin/sop/templates lists them)`);
        const plan = await Plan.create({ ...body, template, timeZone: body.timeZone ?? deps.timeZone });
        ctx.status = 201;
        ctx.body = { plan: view(plan) };
      });

      router.get('/api/admin/sop/plans/:id', admin, async (ctx) => {
        const plan = await planOr404(ctx);
        ctx.body = { plan: { ...view(plan), template: plan.template } };
      });

      router.patch('/api/admin/sop/plans/:id', admin, async (ctx) => {
        const plan = await planOr404(ctx);
        const body = updatePlan.parse(ctx.request.body);
        plan.set(body);
        await plan.save();
        ctx.body = { plan: view(plan) };
      });

      for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
        router.post(`/api/admin/sop/plans/:id/${action}`, admin, async (ctx) => {
          const plan = await planOr404(ctx);
          // A schedule starts counting from now when switched on, so old slots are not replayed.
          plan.set({ enabled, ...(enabled ? { scheduledThrough: deps.now() } : {}) });
          await plan.save();
          ctx.body = { plan: view(plan) };
        });
      }

      router.delete('/api/admin/sop/plans/:id', admin, async (ctx) => {
        const plan = await planOr404(ctx);
        const cancelled = await Job.updateMany(
          { planId: plan._id, status: 'pending' },
          { $set: { status: 'done', outcome: 'plan_disabled', runAt: null, finishedAt: deps.now() } },
        );
        await plan.deleteOne();
        ctx.body = { deleted: String(plan._id), cancelledJobs: cancelled.modifiedCount };
      });

      router.get('/api/admin/sop/plans/:id/audience', admin, async (ctx) => {
        const plan = await planOr404(ctx);
        const targets = await deps.engine.audienceTargets(plan);
        ctx.body = { count: targets.length, sample: targets.slice(0, 20) };
      });

      router.post('/api/admin/sop/plans/:id/dry-run', admin, async (ctx) => {
        const plan = await planOr404(ctx);
        const targets = (await deps.engine.audienceTargets(plan)).slice(0, 20);
        ctx.body = { plan: view(plan), runs: await dryRun({ plan, targets, runner: deps.runner, models: deps.models, now: deps.now() }) };
      });

      router.get('/api/admin/sop/plans/:id/jobs', admin, async (ctx) => {
        const plan = await planOr404(ctx);
        const query = jobQuery.parse(ctx.query);
        ctx.body = { jobs: await listJobs(deps.models, { planId: plan._id, ...(query.status ? { status: query.status } : {}) }, query.limit) };
      });

      router.get('/api/admin/sop/contacts/:externalUserId/jobs', admin, async (ctx) => {
        const externalUserId = z.string().min(1).max(128).parse(ctx.params.externalUserId);
        ctx.body = { jobs: await listJobs(deps.models, { targetId: externalUserId }, 200) };
      });
    },
  };
}

/** Jobs, newest first, each with its send (and, for mass sends, whether the rep confirmed it). */
async function listJobs(models: SopModels, filter: Record<string, unknown>, limit: number) {
  const jobs = await models.Job.find(filter, { __v: 0, leaseOwner: 0 }).sort({ dueAt: -1 }).limit(limit).lean();
  const sends = await models.Send.find({ key: mongoose.trusted({ $in: jobs.map((j) => j.key) }) }, { _id: 0, key: 1, state: 1, msgid: 1, delivery: 1, deliveredAt: 1 }).lean();
  const byKey = new Map(sends.map((s) => [s.key, s]));
  return jobs.map((job) => ({ ...job, send: byKey.get(job.key) ?? null }));
}

/** The next calendar slot of a schedule plan; event-triggered plans run when their event happens. */
function nextRun(plan: HydratedDocument<Plan>, now: Date): Date | null {
  const trigger = plan.template.trigger;
  return trigger.type === 'schedule' ? nextCronRun(trigger.cron, plan.timeZone, now) : null;
}
