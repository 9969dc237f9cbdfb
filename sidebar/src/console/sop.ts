import type { Journey, Trigger } from '../shared/journey.ts';
import type { Translate } from '../shared/schedule.ts';

/** The shapes of the SOP operator API (`/api/admin/sop/...`) the console reads. */
export type { Trigger };

export interface TemplateStep {
  id: string;
  name?: string;
  type: string;
  content?: { text: string };
}

export interface Template {
  id: string;
  name: string;
  description: string;
  target: 'contact' | 'group';
  trigger: Trigger;
  steps: TemplateStep[];
  quietHours: { start: string; end: string };
  reentry?: ReentryRule;
  /** Built-in YAML file, or saved by an operator (contract-13). */
  source?: 'builtin' | 'user';
  createdAt?: string;
}

/** Whether a contact may start a plan again: once ever, once per `days`, or every time the trigger fires. */
export interface ReentryRule {
  mode: 'once' | 'per_days' | 'every_time';
  days?: number;
}

/** The rule a plan has when the operator sets none: the journey's, else once for add/tag triggers. */
export function defaultReentry(template: Pick<Template, 'trigger' | 'reentry'>): ReentryRule {
  if (template.reentry) return template.reentry;
  return template.trigger.type === 'contact_added' || template.trigger.type === 'contact_tagged' ? { mode: 'once' } : { mode: 'every_time' };
}

export const reentryWords = (rule: ReentryRule, t: Translate) => t(`console.sop.reentryModes.${rule.mode}`, { days: rule.days ?? 0 });

export interface Audience {
  tags: string[];
  channels: string[];
  reps: string[];
  groups: string[];
  stages?: string[];
  minScore?: number | null;
  maxScore?: number | null;
}

function scoreWords(min: number | null, max: number | null, t: Translate): string {
  if (min !== null && max !== null) return t('console.sop.scoreRange', { min, max });
  if (min !== null) return t('console.sop.scoreMin', { min });
  return max !== null ? t('console.sop.scoreMax', { max }) : '';
}

/** The audience in words: its tags, channels, reps, groups, stages and score bounds. */
export function audienceWords(a: Audience, t: Translate): string {
  const score = scoreWords(a.minScore ?? null, a.maxScore ?? null, t);
  const stages = (a.stages ?? []).map((s) => t(`common.stage.${s}`));
  return [...a.tags, ...a.channels, ...a.reps, ...a.groups, ...stages, score].filter(Boolean).join(', ') || '—';
}

export interface PlanView {
  id: string;
  name: string;
  templateId: string;
  templateName: string;
  trigger: Trigger;
  target: 'contact' | 'group';
  audience: Audience;
  timeZone: string;
  quietHours: { start: string; end: string };
  enabled: boolean;
  builtIn: boolean;
  nextRun: string | null;
  jobs?: Record<string, number>;
  template?: Template;
  /** Contract-13: the plan's own journey, its version, and the next runs of a schedule. */
  version?: number;
  journey?: Journey;
  nextRuns?: string[];
  /** The re-entry rule in force, and whether it is the default (no rule of the plan's own). */
  reentry?: ReentryRule;
  reentryDefault?: boolean;
}

/** Fills {{variables}} with sample values, the way the engine does per customer. */
export function previewText(text: string, sample: Record<string, string>): string {
  // `{{company|贵公司}}`: the default shows when the sample has no value, as the engine renders it.
  return text.replace(/\{\{\s*(\w+)\s*(?:\|([^{}]*))?\}\}/g, (whole, name: string, fallback?: string) => sample[name] || fallback?.trim() || (fallback === undefined ? whole : ''));
}
