import path from 'node:path';
import type { Connection } from 'mongoose';
import { ContactPool, registerContactModels, type ContactModels } from '../../server/src/contacts/index.ts';
import { requireAdmin } from '../../server/src/http/index.ts';
import { createLogger, createMetrics, type Metrics } from '../../server/src/observability/index.ts';
import { createMedia, type Media } from '../../server/src/media/index.ts';
import { createSop, parseTemplate, type Sop, type SopDeps } from '../../server/src/sop/index.ts';
import { registerRepTasks, type RepTaskModel } from '../../server/src/tasks/index.ts';
import { createWecomClient, syncFromWecom, type WecomClient } from '../../server/src/wecom/index.ts';
import type { WecomSimulator } from '../../server/src/wecom-simulator/index.ts';

export const TEMPLATES_DIR = path.resolve('sop-templates');

/** A controllable clock shared by the engine and the simulator. */
export class TestClock {
  constructor(private t: number) {}
  now = () => new Date(this.t);
  ms = () => this.t;
  set(iso: string) {
    this.t = new Date(iso).getTime();
  }
  advance(ms: number) {
    this.t += ms;
  }
}

export interface SopHarness {
  sop: Sop;
  contacts: ContactModels;
  pool: ContactPool;
  tasks: RepTaskModel;
  client: WecomClient;
  /** With options.media: the media module (operator images, WeCom media_id cache) on the same clock. */
  media: Media | null;
  metrics: Metrics;
}

export const SOP_ADMIN_TOKEN = 'sop-admin-token-0123456789';

/** The SOP module on a connection, exactly as the server builds it, with the simulator as WeCom. */
export async function buildSop(
  connection: Connection,
  sim: WecomSimulator,
  clock: TestClock,
  options: { sync?: boolean; media?: boolean; bot?: SopDeps['bot']; testSend?: SopDeps['testSend']; segments?: { has: NonNullable<SopDeps['segmentHas']>; audience: NonNullable<SopDeps['segmentAudience']> }; standing?: SopDeps['standing'] } = {},
): Promise<SopHarness> {
  const logger = createLogger({ level: 'silent' });
  const contacts = registerContactModels(connection);
  await Promise.all(Object.values(contacts).map((m) => m.init()));
  const pool = new ContactPool(contacts);
  const tasks = registerRepTasks(connection);
  await tasks.init();
  const client = createWecomClient({ apiBase: sim.apiBase, corpId: sim.corp.corpId, secret: sim.corp.secret, logger });
  if (options.sync !== false) await syncFromWecom(client, pool);
  const adminGuard = requireAdmin(SOP_ADMIN_TOKEN);
  const media = options.media
    ? await createMedia({ connection, client, adminGuard, publicUrl: 'http://scrm.test', now: clock.ms })
    : null;
  const metrics = createMetrics();
  const sop = await createSop({
    connection,
    contacts,
    pool,
    tasks,
    client,
    bot: options.bot ?? null,
    logger,
    metrics,
    templatesDir: TEMPLATES_DIR,
    timeZone: 'Asia/Shanghai',
    adminGuard,
    now: clock.now,
    worker: { pollMs: 20, concurrency: 3 },
    ...(media ? { media: media.cache } : {}),
    ...(options.testSend ? { testSend: options.testSend } : {}),
    ...(options.standing ? { standing: options.standing } : {}),
    ...(options.segments ? { segmentHas: options.segments.has, segmentAudience: options.segments.audience } : {}),
  });
  return { sop, contacts, pool, tasks, client, media, metrics };
}

/** Creates an enabled plan from inline YAML (validated like a file in sop-templates/). */
export async function planFromYaml(sop: Sop, yaml: string, audience: Record<string, string[]> = {}) {
  const template = parseTemplate(yaml, `${/^id: (\S+)/m.exec(yaml)?.[1] ?? 'inline'}.yaml`);
  return sop.models.Plan.create({ name: template.name, templateId: template.id, template, audience, timeZone: 'Asia/Shanghai', enabled: true });
}
