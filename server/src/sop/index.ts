import type { Connection } from 'mongoose';
import type { ContactModels, ContactPool } from '../contacts/index.ts';
import type { Guard, HttpModule } from '../http/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { RepTaskModel } from '../tasks/index.ts';
import type { WecomClient } from '../wecom/index.ts';
import type { StandingOf } from './conditions.ts';
import { sopAdminModule } from './admin-routes.ts';
import type { MediaIds } from './attachments.ts';
import { sopAuthoringModule } from './authoring-routes.ts';
import { operatorActions, type OperatorActions } from './operator-actions.ts';
import { SopEngine } from './engine.ts';
import { registerSopModels, type SopModels } from './models.ts';
import type { BotChannel, Guardrails } from './steps.ts';
import { loadTemplates, type SopTemplate, type TemplateError } from './templates/index.ts';

export { sopAuthoringModule } from './authoring-routes.ts';
export { SopEngine, type Target } from './engine.ts';
export { registerSopModels, type SopModels, type Plan, type Enrollment, type SopJob, type JobOutcome } from './models.ts';
export { UnreachableTarget, type BotChannel, type Guardrails } from './steps.ts';
export { localDay, quietUntil } from './time.ts';
// The guardrails, media conversion and read-back one-off mass sends (mass-sends/) share with SOP steps.
export { capSlotsUsed, optedOutAmong, recordSend, type LedgerEntry } from './guardrails.ts';
export { toWecomAttachments, type MediaIds } from './attachments.ts';
export { deliveryOf, findCreatedTask, sendResults, type Delivery } from './tracking.ts';
export type { SendRecord } from './models.ts';
export { STAGES, stageChangesAt, stageFrom, stageOf, stagesOf, type Stage, type Standing, type StandingOf } from './conditions.ts';
export * from './templates/index.ts';

export interface SopDeps {
  connection: Connection;
  contacts: ContactModels;
  pool: ContactPool;
  tasks: RepTaskModel;
  client: WecomClient;
  bot: BotChannel | null;
  logger: Logger;
  metrics: Metrics;
  templatesDir: string;
  timeZone: string;
  adminGuard: Guard;
  guardrails?: Partial<Guardrails>;
  now?: () => Date;
  worker?: { concurrency?: number; pollMs?: number; leaseMs?: number };
  /** Whether this instance runs the engine's minute tick (lease `sop-tick`); absent = always. It reaches the engine with the rest of deps. */
  isLeader?: () => boolean;
  /** WeCom media_ids for images and mini-program covers (the media module's cache). */
  media?: MediaIds | null;
  /** Test sends: the app they come from, and in demo mode the reps (the first is the default recipient). */
  testSend?: { agentId: number; demoReps: string[] | null };
  /** Segment membership for plans whose audience names a segment (the customers module). */
  segmentHas?: (segmentId: string, externalUserId: string) => Promise<boolean>;
  segmentAudience?: (segmentId: string) => AsyncIterable<{ externalUserId: string }>;
  /** Stage in force (a rep's override, else computed) and lead score, for audiences and conditions (the customers module). */
  standing?: StandingOf;
}

export interface Sop {
  engine: SopEngine;
  models: SopModels;
  templates: SopTemplate[];
  templateErrors: TemplateError[];
  http: HttpModule;
  /** Content preview and test send for the journey editor. */
  authoring: HttpModule;
  /** Win-back enrolment and group plans, for the console's churn and group lists. */
  actions: OperatorActions;
}

export const DEFAULT_GUARDRAILS: Guardrails = { frequencyCapPerDay: 1, optOutTag: '拒收营销' };

/** Loads the templates, makes sure a welcome plan exists, and builds the engine and its operator API. */
export async function createSop(deps: SopDeps): Promise<Sop> {
  const log = deps.logger.child({ module: 'sop' });
  const models = registerSopModels(deps.connection);
  await Promise.all(Object.values(models).map((m) => m.init()));
  const { templates, errors } = await loadTemplates(deps.templatesDir);
  for (const error of errors) log.error({ file: error.file, line: error.line, path: error.path }, `SOP template refused: ${error.toString()}`);

  const stepDeps = { ...deps, models, guardrails: { ...DEFAULT_GUARDRAILS, ...deps.guardrails } };
  const engine = new SopEngine({ ...stepDeps, ...(deps.now ? { now: deps.now } : {}), ...(deps.worker ? { worker: deps.worker } : {}) });
  await ensureBuiltInWelcome(models, templates, deps.timeZone, log);

  return {
    engine,
    models,
    templates,
    templateErrors: errors,
    actions: operatorActions(models, engine),
    authoring: sopAuthoringModule({
      runner: engine.runner,
      contacts: deps.contacts,
      client: deps.client,
      media: deps.media ?? null,
      agentId: deps.testSend?.agentId ?? null,
      demoReps: deps.testSend?.demoReps ?? null,
      adminGuard: deps.adminGuard,
      timeZone: deps.timeZone,
      now: deps.now ?? (() => new Date()),
    }),
    http: sopAdminModule({
      models,
      engine,
      runner: engine.runner,
      templates: () => ({ templates, errors }),
      adminGuard: deps.adminGuard,
      timeZone: deps.timeZone,
      now: deps.now ?? (() => new Date()),
    }),
  };
}

/**
 * With no contact_added plan at all, new contacts still get the built-in 新客欢迎. Keyed, so several
 * instances starting together create it once; an operator may disable it, and it stays disabled.
 */
async function ensureBuiltInWelcome(models: SopModels, templates: SopTemplate[], timeZone: string, log: Logger): Promise<void> {
  const welcome = templates.find((t) => t.id === 'welcome');
  if (!welcome) {
    log.warn('no welcome template (sop-templates/welcome.yaml): new contacts get no welcome message');
    return;
  }
  if (await models.Plan.exists({ 'template.trigger.type': 'contact_added' })) return;
  await models.Plan.updateOne(
    { builtInKey: 'welcome' },
    { $setOnInsert: { name: `${welcome.name}（内置）`, templateId: welcome.id, template: welcome, timeZone, enabled: true, builtIn: true } },
    { upsert: true },
  );
  log.info('built-in welcome plan enabled (no other contact_added plan exists)');
}
