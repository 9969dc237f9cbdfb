/**
 * Composition root: parses configuration once, builds every module, wires them together and
 * owns the process lifecycle. Modules never read process.env or reach for globals.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Counter } from 'prom-client';
import { readProcessConfig, type Config, type WecomConfig } from './config/index.ts';
import { ContactPool, contactsAdminModule, registerContactModels, type ContactModels } from './contacts/index.ts';
import { seedDemoPool, startDemoWecom } from './demo/index.ts';
import { analyticsModule, Analytics, ANALYTICS_SNAPSHOT_LEASE } from './analytics/index.ts';
import { authModule } from './auth/index.ts';
import { botAdminModule, botPlaygroundModule, BotStatus, createBot, createDemoWorld, DEMO_TAG_RULES, loadPuppet, type Bot, type DemoWorld } from './bot/index.ts';
import { createSidebarApi } from './sidebar-api/index.ts';
import { createApp, requireAdmin, Sessions, startHttpServer, type HttpModule } from './http/index.ts';
import { Importer, importModule } from './import/index.ts';
import { groupWelcomeModule, registerGroupWelcomeModels } from './group-welcome/index.ts';
import { Identity, identityModule, registerIdentityModels } from './identity/index.ts';
import { createMedia } from './media/index.ts';
import { createMassSends } from './mass-sends/index.ts';
import { audienceSource, createCustomers, type CustomersModule } from './customers/index.ts';
import { Health, createLogger, createMetrics, type Logger, type Metrics } from './observability/index.ts';
import { createSop, type Sop } from './sop/index.ts';
import { createChurnRisk } from './churn/index.ts';
import { OrderBook, registerOrderModel } from './orders/index.ts';
import { openStore, type Store } from './store/index.ts';
import { DEMO_SCRIPTS, ScriptLibrary, registerScriptModels, scriptsAdminModule } from './script-library/index.ts';
import { createTagLibrary } from './tag-library/index.ts';
import { Replies, replySourcesModule, type ChatArchiveSource } from './replies/index.ts';
import { registerRepTasks, TaskReminders } from './tasks/index.ts';
import { buildWebIfStale, webModule } from './web/index.ts';
import { instanceLeases } from './instance.ts';
import { startWorkThreads, workThreadConfig, type WorkThreads } from './work-threads/index.ts';
import type { Leases } from './leases/index.ts';
import {
  createWecomClient,
  createWecomIntegration,
  type CallObserver,
  type CallbackSecrets,
  type WecomIntegration,
} from './wecom/index.ts';
import type { WecomSimulator } from './wecom-simulator/index.ts';

/** Shutdown waits this long for the bot (it is one step of SHUTDOWN_TIMEOUT_MS's budget, not all of it). */
const BOT_STOP_TIMEOUT_MS = 3_000;

/** The browser apps (sidebar, console): sources and their build. */

export interface System {
  config: Config;
  url: string;
  store: Store;
  /** The WeCom simulator standing in for WeCom in demo mode; null with real credentials. */
  simulator: WecomSimulator | null;
  /** Resolves once demo data is in the pool (at once outside demo mode). */
  ready: Promise<void>;
  wecom: WecomIntegration;
  sop: Sop;
  /** The customer bot (null when disabled or not set up) and its status. */
  customerBot: { bot: Bot | null; status: BotStatus };
  leases: Leases;
  stop(): Promise<void>;
  /** For tests: stops as a crashed process would, leaving its leases to expire instead of releasing them. */
  kill(): Promise<void>;
}

export interface SystemOptions {
  /** The clock of the scheduled work (SOP enrolments and due jobs, the customer index, 群发 sends and read-backs): a test moves it forward past waits. */
  now?: () => Date;
  /** A 会话存档 reader, for a deployment licensed for WeCom's chat archive: its customer messages count as replies. */
  chatArchive?: ChatArchiveSource;
}

export async function startSystem(config: Config, logger: Logger, options: SystemOptions = {}): Promise<System> {
  await mkdir(config.dataDir, { recursive: true });
  const metrics = createMetrics();
  const health = new Health();
  const cleanup: Array<() => Promise<void>> = [];
  let releaseLeases = true;
  const stopAll = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };

  try {
    const store = await openStore(config.store, logger);
    cleanup.push(() => store.close());
    health.register(store.probe);

    const contactModels = registerContactModels(store.connection);
    await Promise.all(Object.values(contactModels).map((model) => model.init()));
    const pool = new ContactPool(contactModels);

    const { simulator, client, secrets, corp, wecomConfig } = await connectWecom(config, logger, countWecomCalls(metrics));
    if (simulator) cleanup.push(() => simulator.close());

    const tasks = registerRepTasks(store.connection);
    await tasks.init();
    const orderModel = registerOrderModel(store.connection);
    await orderModel.init();
    const orders = new OrderBook({ orders: orderModel, contacts: contactModels });
    const scripts = new ScriptLibrary(registerScriptModels(store.connection));
    await scripts.init();
    const sessions = new Sessions({ ttlMs: config.sessionTtlMs });
    const adminGuard = requireAdmin(config.adminToken, sessions);
    const media = await createMedia({ connection: store.connection, client, adminGuard, publicUrl: config.http.publicUrl });
    const demoReps = simulator ? [...simulator.state.reps.keys()] : null;
    const customerBot = await buildBot(config, { connection: store.connection, pool, contacts: contactModels, scripts, tasks }, logger);
    health.register(customerBot.status.probe());
    const replies = new Replies({ pool, botEnabled: customerBot.bot !== null, chatArchive: options.chatArchive });
    const instance = instanceLeases(config, { connection: store.connection, logger, bot: customerBot.bot, botStopTimeoutMs: BOT_STOP_TIMEOUT_MS });
    const { plan } = instance;
    health.register(instance.probe);
    const sop = await createSop({
      connection: store.connection,
      contacts: contactModels,
      pool,
      tasks,
      client,
      bot: customerBot.bot?.channel ?? null,
      logger,
      metrics,
      templatesDir: config.sop.templatesDir,
      timeZone: config.timeZone,
      adminGuard,
      guardrails: { frequencyCapPerDay: config.sop.frequencyCapPerDay, optOutTag: config.sop.optOutTag },
      ...(options.now ? { now: options.now } : {}),
      media: media.cache,
      testSend: { agentId: Number(corp.agentId), demoReps },
      // `customers` is built next, before the engine starts asking.
      segmentHas: (segmentId, externalUserId) => customers.has({ segmentId }, externalUserId),
      segmentAudience: (segmentId) => customers.audience({ segmentId }),
      standing: (ids, at) => customers.standing(ids, at),
      isLeader: instance.leadsSopTick,
    });
    const customers = await createCustomers({
      connection: store.connection,
      contacts: contactModels,
      orders: orderModel,
      pool,
      sop: sop.models,
      adminGuard,
      timeZone: config.timeZone,
      logger,
      ...(options.now ? { now: options.now } : {}),
      churn: { idsInRange: (range) => churn.idsInRange(range), scoresOf: (ids) => churn.scoresOf(ids) },
    });
    // Churn scores: daily and on activity, on one instance at a time (lease `churn-scores`); a rise
    // past a churn_risk plan's threshold enrols through the engine.
    const churn = await createChurnRisk({
      connection: store.connection,
      contacts: contactModels,
      orders: orderModel,
      logger,
      timeZone: config.timeZone,
      ...(options.now ? { now: options.now } : {}),
      onScored: (event) => sop.engine.onChurnScored(event),
    });
    const churnLease = plan.runsWork ? instance.leases.lease('churn-scores') : null;
    // Taken (or not) before the ticks start, so the first tick already knows whether it leads. The
    // bot starts here on the instance that takes lease `bot`, and stops with its lease.
    await instance.leases.start();
    cleanup.push(() => instance.leases.stop({ release: releaseLeases }));
    if (plan.runsWork) customers.start({ isLeader: instance.leadsCustomerIndex });
    cleanup.push(async () => customers.stop());
    if (plan.runsWork) sop.engine.start();
    if (plan.runsWork) churn.start({ isLeader: () => churnLease?.isLeader() ?? false });
    cleanup.push(() => churn.stop());
    cleanup.push(() => sop.engine.stop());
    // Every working instance runs the pass; each reminder is claimed by one of them.
    const reminders = new TaskReminders({
      tasks,
      client,
      agentId: Number(corp.agentId),
      customerNames: (ids) => pool.namesOf(ids),
      registry: metrics.registry,
      logger,
      timeZone: config.timeZone,
      ...(options.now ? { now: options.now } : {}),
    });
    if (plan.runsWork) reminders.start();
    cleanup.push(() => reminders.stop());
    // Every working instance reads the archive it is given; a message read twice is one reply (its msgid).
    if (plan.runsWork) await replies.start();
    cleanup.push(() => replies.stop());
    health.register(sop.engine.probe);
    // Every path an order enters by (import, demo seed) records it through the book.
    orders.onOrderPlaced((order) => sop.engine.onOrderPlaced(order));

    // Started once the HTTP server is up; the callback route wakes them from the start.
    let threads: WorkThreads | undefined;
    const wecom = createWecomIntegration({
      connection: store.connection,
      secrets,
      client,
      pool,
      logger,
      metrics,
      onContactAdded: (event) => sop.engine.onContactAdded(event),
      onContactTagged: (event) => sop.engine.onContactTagged(event),
      onContactLost: async (event) => {
        await sop.engine.onContactLost(event);
        await churn.recompute([event.externalUserId]);
      },
      welcomeNow: (event, known) => sop.engine.welcomeNow(event, known),
      onStored: () => threads?.kick(),
    });
    await wecom.inbox.init();
    if (plan.runsWork) wecom.worker.start();
    cleanup.push(() => wecom.worker.stop());

    const tagLibrary = await createTagLibrary({
      connection: store.connection,
      contacts: contactModels,
      pool,
      client,
      adminGuard,
      logger,
      resolveAudience: (target) => customers.audience(audienceSource(target)),
    });
    if (plan.runsWork) tagLibrary.bulk.start();
    cleanup.push(() => tagLibrary.bulk.stop());

    const massSends = await createMassSends({
      connection: store.connection,
      contacts: contactModels,
      sends: sop.models.Send,
      tasks,
      client,
      adminGuard,
      logger,
      timeZone: config.timeZone,
      guardrails: { frequencyCapPerDay: config.sop.frequencyCapPerDay, optOutTag: config.sop.optOutTag },
      media: media.cache,
      ...(options.now ? { now: options.now } : {}),
      resolveAudience: (target) => customers.audience(audienceSource(target)),
    });
    if (plan.runsWork) massSends.start();
    cleanup.push(() => massSends.stop());

    const analytics = new Analytics({ contacts: contactModels, orders: orderModel, sop: sop.models, tasks, scripts, timeZone: config.timeZone });
    // One instance serving dashboards keeps the snapshot every other instance starts from; stopped with the other leases.
    const analyticsLease: ReturnType<Leases['lease']> | null = plan.servesApp ? instance.leases.lease(ANALYTICS_SNAPSHOT_LEASE, { leads: analytics.snapshotKeeper({ isLeader: () => analyticsLease?.isLeader() ?? false, logger }) }) : null;
    await analyticsLease?.start();

    // ONE_ID: lead import, the review of probable duplicates, merges and their undo.
    const identity = new Identity({ contacts: contactModels, orders: orderModel, sop: sop.models, models: registerIdentityModels(store.connection) });
    await identity.init();
    pool.onIdentityFacts((externalUserId, facts) => identity.reconcile(externalUserId, facts));
    const modules: HttpModule[] = [
      wecom.http,
      authModule({
        sessions,
        client,
        corp,
        publicUrl: config.demoMode ? null : config.http.publicUrl,
        adminToken: config.adminToken,
        adminUserIds: config.adminUserIds,
        demoReps,
        logger,
      }),
      contactsAdminModule({
        models: contactModels,
        adminGuard,
        createContactWay: (request) => client.contactWay.add(request),
        lists: {
          now: () => new Date(),
          describe: (ids) => describeCustomers(customers, orders, ids, new Date()),
          winBack: (input) => sop.actions.winBack(input),
          plansPushingTo: (chatIds) => sop.actions.plansPushingTo(chatIds),
        },
      }),
      customers.http,
      tagLibrary.http,
      massSends.http,
      scriptsAdminModule({ library: scripts, adminGuard }),
      botAdminModule({ status: customerBot.status, handoffs: customerBot.bot?.handoffs ?? null, adminGuard }),
      ...(customerBot.bot && customerBot.world ? [botPlaygroundModule({ bot: customerBot.bot, world: customerBot.world })] : []),
      importModule({
        importer: new Importer({ contacts: contactModels, orders, identity, timeZone: config.timeZone }, logger),
        adminGuard,
        bodyLimitKb: config.http.bodyLimitKb,
      }),
      identityModule({ identity, adminGuard }),
      groupWelcomeModule({ models: registerGroupWelcomeModels(store.connection), contacts: contactModels, client, adminGuard }),
      replySourcesModule({ replies, adminGuard }),
      analyticsModule({
        analytics,
        adminGuard,
        timeZone: config.timeZone,
      }),
      sop.http,
      sop.authoring,
      media.http,
      await createSidebarApi({
        connection: store.connection,
        sessions,
        contacts: contactModels,
        pool,
        tasks,
        replies,
        scripts,
        sop: sop.models,
        client,
        corp,
        onContactTagged: (event) => sop.engine.onContactTagged(event),
        churnRisk: (externalUserId) => churn.scoreOf(externalUserId),
      }),
      webModule(),
    ];
    // A worker serves only /healthz and /metrics (createApp's own routes).
    const app = createApp({ logger, metrics, health, bodyLimitKb: config.http.bodyLimitKb, modules: plan.servesApp ? modules : [], cookieKeys: [config.sessionSecret] });
    const http = await startHttpServer(app, { host: config.http.host, port: config.http.port });
    // Registered last so it runs first on stop: stop taking requests before the parts behind them go.
    cleanup.push(() => http.close(config.http.shutdownTimeoutMs));
    if (plan.runsWork && config.workThreads > 0) {
      const threadConfigs = Array.from({ length: config.workThreads }, (_, i) => workThreadConfig({ ...config, logLevel: logger.level as Config['logLevel'] }, i, store.uri, wecomConfig));
      threads = await startWorkThreads(threadConfigs, logger);
      const started = threads;
      // Before the HTTP server closes, as a second instance would stop: its work first, then ours.
      cleanup.push(() => (releaseLeases ? started.stop() : started.kill()));
    }
    const url = config.http.port === http.port ? config.http.publicUrl : `http://127.0.0.1:${http.port}`;

    // In the background: the server is usable at once, the demo pool fills within a second.
    const ready = simulator
      ? Promise.all([seedDemoPool({ client, pool, models: contactModels, orders, tasks, logger, identity }), scripts.seed(DEMO_SCRIPTS)]).then(
          () => undefined,
          (err: unknown) => logger.error({ err }, 'demo data could not be synced'),
        )
      : Promise.resolve();
    // The analytics mirror reads every relation and order once; doing it now keeps the first dashboard fast.
    void ready
      .then(() => (plan.servesApp ? analytics.warm() : undefined))
      .catch((err: unknown) => logger.warn({ err }, 'analytics could not read its data ahead (the first dashboard will)'));

    const kill = () => {
      releaseLeases = false;
      return stopAll();
    };
    return { config, url, store, simulator, ready, wecom, sop, customerBot, leases: instance.leases, stop: stopAll, kill };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Stage (in force, as SOP audiences see it) and value of some customers, for the churn list. */
async function describeCustomers(customers: Pick<CustomersModule, 'standing'>, orders: OrderBook, ids: string[], now: Date) {
  const [standing, totals] = await Promise.all([customers.standing(ids, now), orders.totalsOf(ids)]);
  return new Map(ids.map((id) => [id, { stage: standing.get(id)?.stage ?? 'new', orders: totals.get(id)?.orders ?? 0, spentFen: totals.get(id)?.spentFen ?? 0 }]));
}

/** Real WeCom from configuration, or in demo mode a simulator standing in for it (the caller closes it). */
export async function connectWecom(config: Config, logger: Logger, onCall?: CallObserver) {
  const simulator = config.wecom ? null : await startDemoWecom(logger);
  const corp: WecomConfig = config.wecom ?? {
    ...simulator!.corp,
    agentId: String(simulator!.corp.agentId),
    apiBase: simulator!.apiBase,
    oauthBase: simulator!.oauthBase,
  };
  const client = createWecomClient({
    apiBase: corp.apiBase,
    corpId: corp.corpId,
    secret: corp.secret,
    logger,
    onCall,
    rateLimitPerMinute: config.wecomRateLimitPerMinute,
  });
  const secrets: CallbackSecrets = { token: corp.token, encodingAesKey: corp.encodingAesKey, corpId: corp.corpId };
  return { simulator, client, secrets, wecomConfig: corp, corp: { corpId: corp.corpId, agentId: corp.agentId, oauthBase: corp.oauthBase } };
}

/**
 * The customer bot: on wechaty-puppet-mock with a scripted demo world in demo mode, else on the
 * configured puppet. Disabled, or unable to load its puppet, it is null and the server goes on without it.
 */
async function buildBot(
  config: Config,
  deps: Pick<Parameters<typeof createBot>[0], 'connection' | 'pool' | 'contacts' | 'scripts' | 'tasks'>,
  logger: Logger,
): Promise<{ bot: Bot | null; status: BotStatus; world: DemoWorld | null }> {
  const { bot: settings } = config;
  const puppetName = config.demoMode ? 'wechaty-puppet-mock' : settings.puppet;
  const offline = (error: string | null) => {
    const status = new BotStatus({ enabled: settings.enabled, puppet: puppetName, loginTimeoutMs: settings.loginTimeoutMs });
    if (error) status.failed(error, true);
    return { bot: null, status, world: null };
  };
  if (!settings.enabled) return offline(null);
  try {
    const world = config.demoMode ? await createDemoWorld() : null;
    const sessionDir = path.join(config.dataDir, 'bot');
    if (!world) await mkdir(sessionDir, { recursive: true });
    const bot = createBot({
      ...deps,
      puppet: world?.puppet ?? (await loadPuppet(settings.puppet, settings.puppetToken)),
      puppetName,
      // The mock has no session worth keeping; a real account's login survives restarts in DATA_DIR.
      ...(world ? {} : { sessionFile: path.join(sessionDir, 'wechaty') }),
      logger,
      pacing: { ...settings.pacing, timeZone: config.timeZone },
      loginTimeoutMs: settings.loginTimeoutMs,
      tagRules: settings.tagRules ?? (config.demoMode ? DEMO_TAG_RULES : []),
      managedRooms: settings.managedRooms,
      printQr: !world,
    });
    return { bot, status: bot.status, world };
  } catch (err) {
    logger.error({ err, puppet: puppetName }, 'bot could not be set up; the server goes on without it');
    return offline(err instanceof Error ? err.message : String(err));
  }
}

function countWecomCalls(metrics: Metrics) {
  const calls = new Counter({
    name: 'wecom_api_calls_total',
    help: 'Calls to the WeCom server API by endpoint and outcome (sends included)',
    labelNames: ['api', 'outcome', 'errcode'],
    registers: [metrics.registry],
  });
  const observe: CallObserver = (api, outcome, errcode) => calls.inc({ api, outcome, errcode: String(errcode) });
  return observe;
}

function announce(system: System, logger: Logger): void {
  const { config, url } = system;
  logger.info({ url, demoMode: config.demoMode, store: system.store.kind, timeZone: config.timeZone }, 'server ready');
  if (config.demoMode) {
    logger.warn('demo mode: no WECOM_* credentials set, so the WeCom simulator and demo data stand in (see README)');
  }
  const lines = [
    '',
    `  WeCom SCRM is running${config.demoMode ? ' in demo mode' : ''}.`,
    `    Sidebar:  ${url}/sidebar/${config.demoMode ? '   (signed in as a demo rep)' : ''}`,
    `    Console:  ${url}/console/`,
    ...(config.demoMode && config.bot.enabled ? [`    Bot:      ${url}/bot-playground/   (chat with the customer bot as a demo customer)`] : []),
    // Test sends from the journey editor land here in demo mode (there is no real WeCom client to show them).
    ...(system.simulator ? [`    Test sends (simulated WeCom app messages): ${system.simulator.appMessagesUrl}?userid=<rep>`] : []),
    `    Health:   ${url}/healthz`,
    `    Metrics:  ${url}/metrics`,
    `    Store:    ${system.store.kind === 'embedded' ? `embedded (data in ${config.dataDir})` : 'MongoDB (MONGODB_URI)'}`,
  ];
  if (config.generatedSecrets.includes('ADMIN_TOKEN')) {
    lines.push(`    Admin token for this run: ${config.adminToken}  (set ADMIN_TOKEN to keep one)`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

async function runProcess(): Promise<void> {
  const config = readProcessConfig();
  const logger = createLogger({ level: config.logLevel });
  // Crash policy: a bug that escapes every handler leaves the process in an unknown state; log it and exit so the supervisor restarts us.
  const crash = (kind: string) => (err: unknown) => {
    logger.fatal({ err }, kind);
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));

  let system: System;
  try {
    await buildWebIfStale({ log: (line) => logger.info(line) });
    system = await startSystem(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
  announce(system, logger);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs + 5_000);
    deadline.unref();
    system.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runProcess();
}
