import { DateTime } from 'luxon';
import { validateDetailed } from 'node-cron';
import type { z } from 'zod';
import { journeySchema, templateSchema } from './schema.ts';
import type { SopJourney, SopStep, SopTrigger } from './schema.ts';
import { TEMPLATE_VARIABLES, variablesIn } from './content.ts';
import type { Problem } from './issues.ts';

const CRON_FIELDS = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const CRON_RANGES: Record<string, string> = {
  minute: '0-59',
  hour: '0-23',
  dayOfMonth: '1-31',
  month: '1-12 or JAN-DEC',
  dayOfWeek: '0-7 or SUN-SAT',
};
const CRON_LABELS: Record<string, string> = { dayOfMonth: 'day-of-month', dayOfWeek: 'day-of-week' };

/** Five fields in the plan's time zone; node-cron would also take a leading seconds field, the engine does not. */
export function cronProblems(cron: string): string[] {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return [`must have 5 fields (${CRON_FIELDS.join(' ')}), got ${fields.length}`];
  return validateDetailed(cron).errors.map((e) => {
    const label = CRON_LABELS[e.field] ?? e.field;
    // node-cron's own wording is only worth showing for day/month combinations (e.g. 31 2).
    if (/impossible/.test(e.message)) return `${label} field: ${e.message}`;
    return `${label} field "${e.value ?? ''}" is invalid (${label}: ${CRON_RANGES[e.field] ?? '?'})`;
  });
}

const GROUP_STEP_TYPES: ReadonlySet<SopStep['type']> = new Set(['mass_send', 'bot_send']);
/** Variables about one contact mean nothing in a group push, and vice versa. */
const CONTACT_ONLY_VARIABLES = new Set(['name', 'company']);
const GROUP_ONLY_VARIABLES = new Set(['group']);

function* stepProblems(t: SopJourney): Generator<Problem> {
  const indexOf = new Map<string, number>();
  for (const [i, step] of t.steps.entries()) {
    const first = indexOf.get(step.id);
    if (first === undefined) indexOf.set(step.id, i);
    else yield { path: ['steps', i, 'id'], message: `duplicate step id "${step.id}" (already used by steps[${first}])` };
  }

  for (const [i, step] of t.steps.entries()) {
    if (step.type === 'branch') {
      for (const key of ['then', 'else'] as const) {
        const target = step[key];
        if (target === undefined) continue;
        const j = indexOf.get(target);
        if (j === undefined) yield { path: ['steps', i, key], message: `no step has id "${target}"` };
        else if (j <= i) yield { path: ['steps', i, key], message: `must name a later step: "${target}" is steps[${j}] (journeys cannot loop)` };
      }
    }
    if (step.type === 'send_welcome') {
      const why = "WeCom's welcome code comes with the add event and expires after 20 s";
      if (t.trigger.type !== 'contact_added') yield { path: ['steps', i, 'type'], message: `send_welcome needs trigger contact_added: ${why}` };
      if (i !== 0) yield { path: ['steps', i, 'type'], message: `send_welcome must be the first step: ${why}` };
      if (step.after) yield { path: ['steps', i, 'after'], message: `send_welcome cannot wait: ${why}` };
    }
    if (t.target === 'group' && !GROUP_STEP_TYPES.has(step.type)) {
      yield { path: ['steps', i, 'type'], message: `a group journey takes only mass_send and bot_send steps, not ${step.type}` };
    }
    if ('content' in step) {
      const wrong = t.target === 'group' ? CONTACT_ONLY_VARIABLES : GROUP_ONLY_VARIABLES;
      for (const name of variablesIn(step.content.text)) {
        if (!Object.hasOwn(TEMPLATE_VARIABLES, name)) {
          yield { path: ['steps', i, 'content', 'text'], message: `{{${name}}} is not a variable (known: ${Object.keys(TEMPLATE_VARIABLES).join(', ')})` };
        } else if (wrong.has(name)) yield { path: ['steps', i, 'content', 'text'], message: `{{${name}}} has no value in a ${t.target} journey` };
      }
    }
  }

  yield* unreachableSteps(t, indexOf);
}

/** A step after a branch that no branch names can never run: almost always a wrong id. */
function* unreachableSteps(t: SopJourney, indexOf: ReadonlyMap<string, number>): Generator<Problem> {
  const reached = new Set<number>([0]);
  for (const [i, step] of t.steps.entries()) {
    if (!reached.has(i)) {
      // Reported once per run of dead steps: the ones after it are dead for the same reason.
      yield { path: ['steps', i], message: `step "${step.id}" can never run: it follows a branch and no branch names it` };
    }
    if (step.type !== 'branch') reached.add(i + 1);
    else {
      for (const target of [step.then, step.else]) {
        const j = target === undefined ? undefined : indexOf.get(target);
        if (j !== undefined) reached.add(j);
      }
    }
  }
}

/** A schedule runs on a cron or once at a local date-time, never both: paths are relative to the trigger. */
export function* scheduleProblems(trigger: Extract<SopTrigger, { type: 'schedule' }>): Generator<Problem> {
  if ((trigger.cron === undefined) === (trigger.at === undefined)) {
    yield { path: ['cron'], message: 'a schedule needs exactly one of cron (repeating) or at (once, YYYY-MM-DDTHH:mm)' };
  }
  if (trigger.cron !== undefined) for (const message of cronProblems(trigger.cron)) yield { path: ['cron'], message };
  // The format is the schema's; a date that does not exist (2026-02-30) is only seen here.
  if (trigger.at !== undefined && !DateTime.fromISO(trigger.at, { zone: 'UTC' }).isValid) {
    yield { path: ['at'], message: `"${trigger.at}" is not a date in the calendar` };
  }
}

function* templateProblems(t: SopJourney): Generator<Problem> {
  if (t.trigger.type === 'schedule') {
    for (const { path, message } of scheduleProblems(t.trigger)) yield { path: ['trigger', ...path], message };
  }
  if (t.target === 'group') {
    if (t.trigger.type !== 'schedule') yield { path: ['trigger', 'type'], message: `a group journey needs trigger schedule (${t.trigger.type} is about one contact)` };
    if (t.exitWhen) yield { path: ['exitWhen'], message: 'a group journey cannot have exitWhen: its conditions are about one contact' };
  }
  yield* stepProblems(t);
}

function addRuleIssues(t: SopJourney, ctx: z.RefinementCtx): void {
  for (const { path, message } of templateProblems(t)) ctx.addIssue({ code: 'custom', path: [...path], message });
}

/** The template format with the checks that span fields: the schema alone cannot see them. */
export const sopTemplateSchema = templateSchema.superRefine(addRuleIssues);
/** The same for a journey written in the console, whose id is optional. */
export const sopJourneySchema = journeySchema.superRefine(addRuleIssues);
