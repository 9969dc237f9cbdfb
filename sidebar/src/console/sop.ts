import type { Journey, Trigger } from '../shared/journey.ts';

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
  /** Built-in YAML file, or saved by an operator (contract-13). */
  source?: 'builtin' | 'user';
  createdAt?: string;
}

export interface Audience {
  tags: string[];
  channels: string[];
  reps: string[];
  groups: string[];
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
}

/** Fills {{variables}} with sample values, the way the engine does per customer. */
export function previewText(text: string, sample: Record<string, string>): string {
  // `{{company|贵公司}}`: the default shows when the sample has no value, as the engine renders it.
  return text.replace(/\{\{\s*(\w+)\s*(?:\|([^{}]*))?\}\}/g, (whole, name: string, fallback?: string) => sample[name] || fallback?.trim() || (fallback === undefined ? whole : ''));
}
