import mongoose, { type HydratedDocument } from 'mongoose';
import { z } from 'zod';
import { type AppContext, type Guard, type HttpModule } from '../http/index.ts';
import type { SopEngine } from './engine.ts';
import type { Plan, SopModels } from './models.ts';
import { STAGES } from './conditions.ts';
import { dryRun } from './dry-run.ts';
import { parseJourney } from './journeys.ts';
import { mountJourneyRoutes } from './journey-routes.ts';
import { TemplateLibrary } from './library.ts';
import { mountLibraryRoutes } from './library-routes.ts';
import { objectId, planView, timeZone, type PlanLookup } from './plan-view.ts';
import type { StepRunner } from './steps.ts';
import { catchUpSchema, quietHoursSchema, reentrySchema, type SopJourney, type SopTemplate, type TemplateError } from './templates/index.ts';

const scoreBound = (label: string) => z.number().min(0, `${label}须在 0–100 之间`).max(100, `${label}须在 0–100 之间`).nullable().optional();
const audience = z
  .object({
    tags: z.array(z.string().min(1)).max(50).default([]),
    channels: z.array(z.string().min(1).max(30)).max(200).default([]),
    reps: z.array(z.string().min(1)).max(1000).default([]),
    groups: z.array(z.string().min(1)).max(1000).default([]),
    stages: z.array(z.enum(STAGES)).max(STAGES.length).default([]),
    minScore: scoreBound('评分下限'),
    maxScore: scoreBound('评分上限'),
    segment: z.string().regex(/^[0-9a-f]{24}$/, 'expected a segment id').nullable().optional(),
  })
  .strict()
  .refine((a) => a.minScore == null || a.maxScore == null || a.minScore <= a.maxScore, { path: ['maxScore'], message: '评分上限不能低于下限' });
/** What a marketing step the frequency cap stops does: wait for the next allowed day, or not send. */
const capPolicy = z.enum(['defer', 'drop']);
/** A plan's own re-entry rule; null = its journey's (see reentryRule). */
const reentry = reentrySchema.nullable();
const createPlan = z
  .object({
    name: z.string().trim().min(1).max(60),
    /** Start from a template of the library... */
    templateId: z.string().min(1).optional(),
    /** ...or from a journey written inline (validated by parseJourney, to name each problem's step). */
    journey: z.unknown().optional(),
    audience: audience.default({ tags: [], channels: [], reps: [], groups: [], stages: [] }),
    timeZone: timeZone.optional(),
    quietHours: quietHoursSchema.nullable().optional(),
    catchUp: catchUpSchema.nullable().optional(),
    capPolicy: capPolicy.optional(),
    reentry: reentry.optional(),
    enabled: z.boolean().default(false),
  })
  .strict()
  .refine((b) => (b.templateId === undefined) !== (b.journey === undefined), { path: ['templateId'], message: 'give exactly one of templateId or journey' });
const updatePlan = z
  .object({
    name: z.string().trim().min(1).max(60),
    audience,
    timeZone,
    quietHours: quietHoursSchema.nullable(),
    catchUp: catchUpSchema.nullable(),
    capPolicy,
    reentry,
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

/** The operator API: templates, plans and their journeys, audience preview, dry run, and what each plan's jobs did. */
export function sopAdminModule(deps: SopAdminDeps): HttpModule {
  const { Plan, Job } = deps.models;
  const library = new TemplateLibrary(deps.models, deps.templates);

  const planOr404: PlanLookup = async (ctx, id = ctx.params.id) => {
    const plan = await Plan.findById(objectId.parse(id));
    if (!plan) return ctx.throw(404, `no plan ${id}`);
    return plan;
  };
  const view = (plan: HydratedDocument<Plan>) => planView(plan, deps.now());

  return {
    name: 'sop-admin',
    mount(router) {
      const admin = deps.adminGuard;
      mountLibraryRoutes(router, { admin, library, planOr404 });
      mountJourneyRoutes(router, { admin, versions: deps.engine.versions, planOr404, view, timeZone: deps.timeZone, now: deps.now });

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
        const { journey: inline, templateId, ...body } = createPlan.parse(ctx.request.body);
        let journey: SopJourney;
        if (templateId !== undefined) {
          const template = await library.find(templateId);
          if (!template) return ctx.throw(400, `templateId: no template "${templateId}" (GET /api/admin/sop/templates lists them)`);
          const { source: _source, createdAt: _createdAt, ...fromLibrary } = template;
          journey = fromLibrary;
        } else journey = parseJourney(inline);
        const plan = await Plan.create({ ...body, templateId: templateId ?? null, template: journey, version: 1, timeZone: body.timeZone ?? deps.timeZone });
        await deps.engine.versions.record(plan);
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
  const sends = await models.Send.find({ key: mongoose.trusted({ $in: jobs.map((j) => j.key) }) }, { _id: 0, key: 1, state: 1, msgid: 1, delivery: 1, deliveredAt: 1, readError: 1, readFailures: 1 }).lean();
  const byKey = new Map(sends.map((s) => [s.key, s]));
  return jobs.map((job) => ({ ...job, version: job.version ?? 1, send: byKey.get(job.key) ?? null }));
}
