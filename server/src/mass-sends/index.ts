import type { Connection, Model } from 'mongoose';
import type { ContactModels } from '../contacts/index.ts';
import type { Guard, HttpModule } from '../http/index.ts';
import type { Logger } from '../observability/index.ts';
import { DEFAULT_GUARDRAILS, type Guardrails, type MediaIds, type SendRecord } from '../sop/index.ts';
import type { RepTaskModel } from '../tasks/index.ts';
import type { WecomClient } from '../wecom/index.ts';
import type { ResolveAudience } from './audience.ts';
import { registerMassSendModels, type MassSendModels } from './models.ts';
import { ReadBack } from './readback.ts';
import { massSendsModule } from './routes.ts';
import { MassSendRunner } from './runner.ts';
import { MassSender } from './sender.ts';

export type { ResolveAudience } from './audience.ts';
export type { MassSend, MassSendModels, MassSendRep, MassSendState } from './models.ts';
export type { MassSendAudience } from './schema.ts';
export { MAX_PER_CALL } from './sender.ts';

const HOUR = 3_600_000;

export interface MassSendsDeps {
  connection: Connection;
  contacts: ContactModels;
  /** The SOP send ledger (sop_sends): the frequency cap is counted across plans and 群发. */
  sends: Model<SendRecord>;
  tasks: RepTaskModel;
  client: WecomClient;
  /** The customers module's audience. */
  resolveAudience: ResolveAudience;
  adminGuard: Guard;
  logger: Logger;
  timeZone: string;
  /** The same guardrails as SOP (main.ts passes both the same settings). */
  guardrails?: Guardrails;
  /** WeCom media_ids for images and mini-program covers (the media module's cache, as SOP uses). */
  media?: MediaIds | null;
  quietHours?: { start: string; end: string };
  /** A rep who has not confirmed after this long gets a reminder task (default 2 h). */
  remindAfterMs?: number;
  /** How often pending results are read back from WeCom (default 10 min). */
  readBackEveryMs?: number;
  now?: () => Date;
  worker?: { concurrency?: number; pollMs?: number; leaseMs?: number };
}

export interface MassSends {
  models: MassSendModels;
  runner: MassSendRunner;
  http: HttpModule;
  start(): void;
  stop(): Promise<void>;
}

/** One-off 群发: composed in the console, sent per rep as WeCom tasks, read back until the reps confirmed. */
export async function createMassSends(deps: MassSendsDeps): Promise<MassSends> {
  const models = registerMassSendModels(deps.connection);
  await Promise.all(Object.values(models).map((m) => m.init()));
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger.child({ module: 'mass-sends' });
  const guardrails = deps.guardrails ?? DEFAULT_GUARDRAILS;
  const audience = { contacts: deps.contacts, sends: deps.sends, guardrails, resolveAudience: deps.resolveAudience };
  const sender = new MassSender({ ...audience, models, client: deps.client, media: deps.media ?? null, now });
  const readBack = new ReadBack({
    models,
    sends: deps.sends,
    client: deps.client,
    tasks: deps.tasks,
    logger,
    now,
    everyMs: deps.readBackEveryMs ?? 10 * 60_000,
    remindAfterMs: deps.remindAfterMs ?? 2 * HOUR,
    trackForMs: 3 * 24 * HOUR,
  });
  const runner = new MassSendRunner({ models, sender, readBack, logger, now, ...(deps.worker ? { worker: deps.worker } : {}) });
  const http = massSendsModule({
    ...audience,
    models,
    adminGuard: deps.adminGuard,
    timeZone: deps.timeZone,
    quietHours: deps.quietHours ?? { start: '22:00', end: '08:00' },
    now,
    kick: () => runner.kick(),
  });
  return { models, runner, http, start: () => runner.start(), stop: () => runner.stop() };
}
