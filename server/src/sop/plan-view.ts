import type { HydratedDocument } from 'mongoose';
import { z } from 'zod';
import type { AppContext } from '../http/index.ts';
import { planSettings, type Plan } from './models.ts';
import { reentryRule } from './reentry.ts';
import { scheduleSlots } from './time.ts';
import type { SopJourney } from './templates/index.ts';

export const objectId = z.string().regex(/^[0-9a-f]{24}$/i, 'must be a plan id (24 hex characters)');
export const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Asia/Shanghai');

/** A plan by id (the route's :id unless given), or a 404 naming it. */
export type PlanLookup = (ctx: AppContext, id?: string) => Promise<HydratedDocument<Plan>>;

/** The next runs of a schedule (none for event triggers, none for a one-off already past), as the engine enrols them. */
export function nextRuns(journey: Pick<SopJourney, 'trigger'>, timeZone: string, now: Date, count = 5): Date[] {
  return journey.trigger.type === 'schedule' ? scheduleSlots(journey.trigger, timeZone, now, null, count) : [];
}

/** What the console shows of a plan; `template` (the current journey) is kept for older clients. */
export function planView(plan: HydratedDocument<Plan>, now: Date) {
  const runs = nextRuns(plan.template, plan.timeZone, now);
  return {
    id: String(plan._id),
    name: plan.name,
    templateId: plan.templateId,
    templateName: plan.template.name,
    trigger: plan.template.trigger,
    target: plan.template.target,
    version: plan.version,
    journey: plan.template,
    audience: plan.audience,
    timeZone: plan.timeZone,
    ...planSettings(plan),
    capPolicy: plan.capPolicy ?? 'defer',
    /** The rule in force, and whether it is inherited (the plan set none: its journey's, else the trigger's). */
    reentry: reentryRule(plan),
    reentryDefault: !plan.reentry,
    enabled: plan.enabled,
    builtIn: plan.builtIn,
    nextRun: plan.enabled ? (runs[0] ?? null) : null,
    nextRuns: runs,
    createdAt: plan.createdAt,
    updatedAt: plan.updatedAt,
  };
}
