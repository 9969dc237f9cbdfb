/** The shapes of the SOP operator API (`/api/admin/sop/...`) the console reads. */
export interface Trigger {
  type: 'contact_added' | 'contact_tagged' | 'contact_silent' | 'order_placed' | 'schedule';
  cron?: string;
  days?: number;
  tag?: string;
}

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
}

/** Fills {{variables}} with sample values, the way the engine does per customer. */
export function previewText(text: string, sample: Record<string, string>): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => sample[name] ?? whole);
}
