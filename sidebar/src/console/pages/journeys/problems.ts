import type { Journey, JourneyProblem } from '../../../shared/journey.ts';
import type { Translate } from '../../../shared/schedule.ts';

/**
 * Places the server's 400 `problems` where the operator will look: on the step (by stepId, or the
 * steps[i] of the list that was sent), on the trigger, or on the journey as a whole. `field` is the
 * rest of the path inside that place, e.g. `content.text`, `after.days`, `then`, `cron`.
 */
export interface PlacedProblem { field: string; message: string; line?: number }
export interface MappedProblems { steps: Record<string, PlacedProblem[]>; trigger: PlacedProblem[]; journey: PlacedProblem[] }

export function mapProblems(problems: readonly JourneyProblem[], sent: { steps: ReadonlyArray<{ id: string }>; owners: ReadonlyMap<string, string> }): MappedProblems {
  const out: MappedProblems = { steps: {}, trigger: [], journey: [] };
  for (const p of problems) {
    const path = p.path.replace(/^journey\.?/, '');
    const base = { message: p.message, ...(p.line === undefined ? {} : { line: p.line }) };
    const step = /^steps\[(\d+)\]\.?(.*)$/.exec(path);
    if (step) {
      const sentId = p.stepId ?? sent.steps[Number(step[1])]?.id;
      if (sentId !== undefined) {
        // A hidden jump's problem belongs to the branch the operator drew.
        const owner = sent.owners.get(sentId);
        const id = owner ?? sentId;
        (out.steps[id] ??= []).push({ ...base, field: owner ? '' : (step[2] ?? '') });
        continue;
      }
    }
    if (path === 'trigger' || path.startsWith('trigger.')) out.trigger.push({ ...base, field: path.replace(/^trigger\.?/, '') });
    else out.journey.push({ ...base, field: path });
  }
  return out;
}

/** What a problem's path points at inside a step, the trigger or the journey: `content.attachments[0].url`; '' = the whole thing. */
export function valueAt(root: unknown, path: string): unknown {
  let here = root;
  for (const key of path.split(/[.[\]]+/).filter(Boolean)) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

/**
 * The problems still standing: one goes as soon as the value it points at differs from what was
 * saved, so the operator sees a mark disappear when they fix the field (the server judges again on
 * the next save). A step that is gone takes its problems with it.
 */
export function pruneProblems(problems: MappedProblems, sent: Journey, now: Journey): MappedProblems {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const stepIn = (journey: Journey, id: string) => journey.steps.find((s) => s.id === id);
  const steps: MappedProblems['steps'] = {};
  for (const [id, list] of Object.entries(problems.steps)) {
    const before = stepIn(sent, id);
    const after = stepIn(now, id);
    const kept = after ? list.filter((p) => same(valueAt(before, p.field), valueAt(after, p.field))) : [];
    if (kept.length) steps[id] = kept;
  }
  return {
    steps,
    trigger: problems.trigger.filter((p) => same(valueAt(sent.trigger, p.field), valueAt(now.trigger, p.field))),
    journey: problems.journey.filter((p) => same(valueAt(sent, p.field), valueAt(now, p.field))),
  };
}

export const countProblems = (problems: MappedProblems): number =>
  Object.values(problems.steps).flat().length + problems.trigger.length + problems.journey.length;

/** Problems for one field (and the fields under it); '' = all of them. */
export function fieldProblems(list: readonly PlacedProblem[] | undefined, field: string): PlacedProblem[] {
  return (list ?? []).filter((p) => field === '' || p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`));
}

/** Server messages are in English (shared with the YAML loader); the common ones read in the operator's words. */
const EXPLAIN: Array<[RegExp, string]> = [
  [/^no step has id "(.+)"/, 'noStep'],
  [/^must name a later step/, 'laterStep'],
  [/^duplicate step id "(.+?)"/, 'duplicateId'],
  [/^send_welcome needs trigger contact_added/, 'welcomeTrigger'],
  [/^send_welcome must be the first step/, 'welcomeFirst'],
  [/^send_welcome cannot wait/, 'welcomeWait'],
  [/^a group journey takes only/, 'groupSteps'],
  [/^\{\{(\w+)\}\} has no value/, 'variable'],
  [/^\{\{(.+?)\}\} is not a variable/, 'unknownVariable'],
  [/can never run/, 'unreachable'],
  [/^a group journey needs trigger schedule/, 'groupTrigger'],
  [/^a group journey cannot have exitWhen/, 'groupExit'],
  [/exactly one of cron/, 'scheduleKind'],
  [/is not a date in the calendar/, 'badDate'],
  [/(field .* is invalid|must have 5 fields|impossible)/, 'badCron'],
  [/at most 9 attachments/, 'attachments'],
  [/>=1 character|must not be empty|Required|expected string, received undefined/i, 'empty'],
  [/<=\s?(\d+) character/, 'tooLong'],
  [/Invalid URL/i, 'url'],
];

export function explainProblem(message: string, t: Translate): string {
  for (const [pattern, key] of EXPLAIN) {
    const match = pattern.exec(message);
    if (match) return t(`console.journey.problems.${key}`, { value: match[1] ?? '' });
  }
  return message;
}
