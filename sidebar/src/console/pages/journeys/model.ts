import { cleanContent, cloneJson, hasContent, type Condition, type Delay, type Journey, type Step, type Target, type Trigger, type TriggerType } from '../../../shared/journey.ts';
import type { Translate } from '../../../shared/schedule.ts';
import { makeNode, toFlow, toSteps, walk, type Lane } from './flow.ts';

/** What the editor edits: the journey's settings, and its steps drawn as a flow. */
export interface Draft {
  id?: string;
  name: string;
  description: string;
  target: Target;
  trigger: Trigger;
  exitWhen?: Condition;
  marketing: boolean;
  quietHours: { start: string; end: string };
  catchUp?: Journey['catchUp'];
  root: Lane;
  /** The journey has a shape the flow cannot draw in full (only from hand-written YAML). */
  lossy: boolean;
}

export function triggerDefault(type: TriggerType): Trigger {
  switch (type) {
    case 'contact_added':
      return { type, channels: [], tags: [] };
    case 'contact_tagged':
      return { type, tag: '' };
    case 'contact_silent':
      return { type, days: 30 };
    case 'order_placed':
    case 'contact_lost':
      return { type };
    case 'churn_risk':
      return { type, threshold: 60 };
    case 'schedule':
      return { type, cron: '0 10 * * 1' };
  }
}

/** A new journey: 新客添加 from any channel, then one 欢迎语 the operator only has to reword. */
export function newDraft(t: Translate): Draft {
  const welcome = makeNode('send_welcome', 'welcome', t('console.journey.defaults.welcomeName'));
  if (welcome.kind === 'step' && hasContent(welcome.step)) {
    // The variables are passed in so the message tables need no escaped braces.
    welcome.step.content.text = t('console.journey.defaults.welcomeText', { name: '{{name}}', rep: '{{rep}}' });
  }
  return {
    name: t('console.journey.defaults.name'),
    description: '',
    target: 'contact',
    trigger: triggerDefault('contact_added'),
    marketing: false,
    quietHours: { start: '22:00', end: '08:00' },
    root: { nodes: [welcome], end: false },
    lossy: false,
  };
}

export function draftFromJourney(journey: Journey): Draft {
  const { root, lossy } = toFlow(journey.steps);
  // The editor's inputs want every field present; the server's defaults fill the same values.
  for (const node of walk(root)) {
    if (node.kind === 'step' && hasContent(node.step)) node.step.content.attachments ??= [];
  }
  const trigger = cloneJson(journey.trigger);
  if (trigger.type === 'contact_added') {
    trigger.channels ??= [];
    trigger.tags ??= [];
  }
  return {
    ...(journey.id ? { id: journey.id } : {}),
    name: journey.name,
    description: journey.description ?? '',
    target: journey.target ?? 'contact',
    trigger,
    ...(journey.exitWhen ? { exitWhen: cloneJson(journey.exitWhen) } : {}),
    marketing: journey.marketing ?? true,
    quietHours: { ...(journey.quietHours ?? { start: '22:00', end: '08:00' }) },
    ...(journey.catchUp ? { catchUp: { ...journey.catchUp } } : {}),
    root,
    lossy,
  };
}

function cleanDelay(after: Delay | undefined): Delay | undefined {
  if (!after) return undefined;
  const out: Delay = {};
  for (const key of ['days', 'hours', 'minutes'] as const) if (after[key]) out[key] = Number(after[key]);
  if (after.at) out.at = after.at;
  return Object.keys(out).length ? out : undefined;
}

function cleanStep(step: Step): Step {
  const name = step.name?.trim();
  const after = cleanDelay(step.after);
  const base = { ...step, ...(name ? { name } : {}), ...(after ? { after } : {}) };
  if (!name) delete base.name;
  if (!after) delete base.after;
  if (hasContent(base)) return { ...base, content: cleanContent(base.content) };
  if (base.type === 'rep_task' && !base.detail?.trim()) {
    const { detail: _detail, ...rest } = base;
    return rest;
  }
  return base;
}

/** The journey to send, and which branch each generated jump belongs to (to place its problems). */
export function journeyFromDraft(draft: Draft): { journey: Journey; owners: Map<string, string> } {
  const { steps, owners } = toSteps(draft.root);
  const trigger = cloneJson(draft.trigger);
  const journey: Journey = {
    ...(draft.id ? { id: draft.id } : {}),
    name: draft.name.trim(),
    description: draft.description.trim(),
    target: draft.target,
    trigger,
    steps: steps.map(cleanStep),
    ...(draft.exitWhen ? { exitWhen: draft.exitWhen } : {}),
    marketing: draft.marketing,
    quietHours: draft.quietHours,
    ...(draft.catchUp ? { catchUp: draft.catchUp } : {}),
  };
  return { journey, owners };
}

/** Switching to groups: only a schedule can start it, and a welcome message becomes a push. */
export function retarget(draft: Draft, target: Target): void {
  draft.target = target;
  if (target === 'group') {
    // Group pushes are marketing, unlike a contact's welcome (the default a new journey starts with).
    draft.marketing = true;
    if (draft.trigger.type !== 'schedule') draft.trigger = triggerDefault('schedule');
    delete draft.exitWhen;
    for (const node of walk(draft.root)) if (node.step.type === 'send_welcome') node.step.type = 'mass_send';
  }
}
