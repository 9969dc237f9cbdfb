import type { HydratedDocument } from 'mongoose';
import { z } from 'zod';
import type { AppRouter, Guard } from '../http/index.ts';
import { nextRuns, timeZone, type PlanLookup } from './plan-view.ts';
import { InvalidJourney, journeyProblem, parseJourney } from './journeys.ts';
import { journeyYaml } from './library.ts';
import type { Plan } from './models.ts';
import { problemsFromIssues, scheduleProblems, templateErrorMap, triggerSchema, type SopTrigger } from './templates/index.ts';
import type { JourneyVersions } from './versions.ts';

const replaceJourney = z.object({ journey: z.unknown(), migrate: z.enum(['keep', 'move']).default('keep') }).strict();
const schedulePreview = z.object({ trigger: z.unknown(), timeZone: timeZone.optional() }).strict();

/** A trigger being edited, checked like a journey's so the console can show problems on its fields. */
function scheduleTrigger(input: { trigger: unknown }): Extract<SopTrigger, { type: 'schedule' }> {
  const parsed = triggerSchema.safeParse(input.trigger, { error: templateErrorMap });
  if (!parsed.success) throw new InvalidJourney(problemsFromIssues(parsed.error.issues, ['trigger']).map((p) => journeyProblem(input, p)));
  const trigger = parsed.data;
  if (trigger.type !== 'schedule') throw new InvalidJourney([{ path: 'trigger.type', stepId: null, message: `must be schedule to have runs, not ${trigger.type}` }]);
  const problems = [...scheduleProblems(trigger)].map(({ path, message }) => journeyProblem(input, { path: ['trigger', ...path], message }));
  if (problems.length > 0) throw new InvalidJourney(problems);
  return trigger;
}

export interface JourneyRouteDeps {
  admin: Guard;
  versions: JourneyVersions;
  planOr404: PlanLookup;
  view: (plan: HydratedDocument<Plan>) => unknown;
  /** The server's default zone (TZ_DEFAULT), for a schedule previewed before its plan has one. */
  timeZone: string;
  now: () => Date;
}

/** A plan's journey: replaced as a new version, its versions listed, exported as YAML; schedules previewed. */
export function mountJourneyRoutes(router: AppRouter, deps: JourneyRouteDeps): void {
  const { admin, planOr404 } = deps;

  router.put('/api/admin/sop/plans/:id/journey', admin, async (ctx) => {
    const plan = await planOr404(ctx);
    const body = replaceJourney.parse(ctx.request.body);
    const journey = parseJourney(body.journey);
    const updated = await deps.versions.replace(plan, journey, body.migrate, deps.now());
    if (!updated) return ctx.throw(409, 'the plan was changed or deleted while saving: reload it');
    ctx.body = { plan: deps.view(updated) };
  });

  router.get('/api/admin/sop/plans/:id/versions', admin, async (ctx) => {
    ctx.body = { versions: await deps.versions.list(await planOr404(ctx)) };
  });

  router.get('/api/admin/sop/plans/:id/journey/export', admin, async (ctx) => {
    const plan = await planOr404(ctx);
    ctx.attachment(`${plan.template.id ?? `plan-${String(plan._id)}`}.yaml`);
    ctx.type = 'text/yaml';
    ctx.body = journeyYaml(plan.template);
  });

  router.post('/api/admin/sop/schedule/preview', admin, (ctx) => {
    const body = schedulePreview.parse(ctx.request.body);
    const trigger = scheduleTrigger(body);
    ctx.body = { runs: nextRuns({ trigger }, body.timeZone ?? deps.timeZone, deps.now()) };
  });
}
