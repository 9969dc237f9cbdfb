/**
 * The journey format as the server validates it (server/src/sop/templates/schema.ts), seen from
 * the browser. Kept by hand: the browser build must not import server code.
 */
export type Target = 'contact' | 'group';

export interface LinkAttachment { type: 'link'; title: string; url: string; picUrl?: string; desc?: string }
export interface ImageAttachment { type: 'image'; url: string }
export interface MiniProgramAttachment { type: 'miniprogram'; title: string; appId: string; page: string; picUrl?: string }
export type Attachment = LinkAttachment | ImageAttachment | MiniProgramAttachment;

export interface Content { text: string; attachments: Attachment[] }

export interface Delay { days?: number; hours?: number; minutes?: number; at?: string }

export type Condition = { replied: boolean } | { hasTag: string } | { bought: boolean } | { stage: string } | { score: { gte?: number; lte?: number } };

interface StepBase { id: string; name?: string; after?: Delay }
export interface ContentStep extends StepBase { type: 'send_welcome' | 'mass_send' | 'bot_send'; content: Content }
export interface TagStep extends StepBase { type: 'tag'; add: string[]; remove: string[] }
export interface RepTaskStep extends StepBase { type: 'rep_task'; title: string; detail?: string; dueInDays: number }
export interface BranchStep extends StepBase { type: 'branch'; if: Condition; then?: string; else?: string }
export type Step = ContentStep | TagStep | RepTaskStep | BranchStep;
export type StepType = Step['type'];

export type Trigger =
  | { type: 'contact_added'; channels: string[]; tags: string[] }
  | { type: 'contact_tagged'; tag: string }
  | { type: 'contact_silent'; days: number }
  | { type: 'order_placed' }
  | { type: 'churn_risk'; threshold: number }
  | { type: 'contact_lost' }
  | ScheduleTrigger;
export interface ScheduleTrigger { type: 'schedule'; cron?: string; at?: string }
export type TriggerType = Trigger['type'];

export interface Journey {
  id?: string;
  name: string;
  description?: string;
  target: Target;
  trigger: Trigger;
  steps: Step[];
  exitWhen?: Condition;
  marketing?: boolean;
  quietHours?: { start: string; end: string };
  catchUp?: { policy: 'run' | 'skip'; maxLatenessHours: number };
}

/** One problem from a 400 `invalid_journey` answer (contract-13). `line` only for YAML imports. */
export interface JourneyProblem { path: string; stepId: string | null; message: string; line?: number }

export const CONTENT_TYPES = ['send_welcome', 'mass_send', 'bot_send'] as const;
export const hasContent = (step: Step): step is ContentStep => (CONTENT_TYPES as readonly string[]).includes(step.type);

/** The variables the engine fills, and which target each makes sense for (rules.ts). */
export const VARIABLES = ['name', 'rep', 'company', 'group', 'date'] as const;
export type Variable = (typeof VARIABLES)[number];
export function variablesFor(target: Target): Variable[] {
  return VARIABLES.filter((v) => (target === 'group' ? v !== 'name' && v !== 'company' : v !== 'group'));
}

/** WeCom's limits for one message (text length, attachments per message). */
export const TEXT_LIMIT = 4000;
export const ATTACHMENT_LIMIT = 9;

/** Messages per field, already in the operator's words; keys are paths such as `text`, `attachments[0].url`. */
export type FieldErrors = Record<string, string[]>;

/** The errors under one field, with their keys made relative to it (`attachments[0].url` → `url`). */
export function errorsUnder(errors: FieldErrors, prefix: string): FieldErrors {
  const out: FieldErrors = {};
  for (const [key, list] of Object.entries(errors)) {
    if (key === prefix) (out[''] ??= []).push(...list);
    else if (key.startsWith(`${prefix}.`)) (out[key.slice(prefix.length + 1)] ??= []).push(...list);
    else if (key.startsWith(`${prefix}[`)) (out[key.slice(prefix.length)] ??= []).push(...list);
  }
  return out;
}

/** The editor keeps blank optional fields for its inputs; the server's schema wants them absent. */
export function cleanAttachment(a: Attachment): Attachment {
  const optional = <K extends string>(key: K, value: string | undefined) => (value?.trim() ? { [key]: value.trim() } : {}) as Partial<Record<K, string>>;
  switch (a.type) {
    case 'link':
      return { type: 'link', title: a.title, url: a.url.trim(), ...optional('desc', a.desc), ...optional('picUrl', a.picUrl) };
    case 'image':
      return { type: 'image', url: a.url };
    case 'miniprogram':
      return { type: 'miniprogram', title: a.title, appId: a.appId.trim(), page: a.page.trim(), ...optional('picUrl', a.picUrl) };
  }
}

export const cleanContent = (c: Content): Content => ({ text: c.text, attachments: c.attachments.map(cleanAttachment) });

/** A deep copy of JSON data; unlike structuredClone it also takes Vue's reactive proxies. */
export const cloneJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
