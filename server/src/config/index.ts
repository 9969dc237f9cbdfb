import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { envSchema, type Env } from './schema.ts';

export { envSchema };

export interface WecomConfig {
  corpId: string;
  agentId: string;
  secret: string;
  token: string;
  encodingAesKey: string;
  apiBase: string;
  /** WeCom's OAuth page (open.weixin.qq.com); the sidebar and console sign-in redirect there. */
  oauthBase: string;
}

export interface Config {
  env: Env['NODE_ENV'];
  /** No WeCom credentials: the simulator and demo data stand in (see README). */
  demoMode: boolean;
  http: { host: string; port: number; publicUrl: string; bodyLimitKb: number; shutdownTimeoutMs: number };
  /** What this instance runs: web = HTTP only, worker = queue workers, ticks and the bot (HTTP: /healthz, /metrics), all = both. */
  role: Env['ROLE'];
  /**
   * How this instance names itself in leases (/healthz, the bot page), and how long a lease lasts
   * without renewal: a dead holder's singletons (bot, SOP tick, index refresh) move on after it.
   */
  instance: { name: string; leaseMs: number };
  /** Worker instances run in threads of this one (ROLE all or worker): background work on more cores. */
  workThreads: number;
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  timeZone: string;
  store:
    | { kind: 'external'; uri: string }
    | {
        kind: 'embedded';
        port: number;
        dbPath: string | null;
        fsync: Env['EMBEDDED_MONGO_FSYNC'];
        /** Run the store on a worker thread (its own core) rather than on the application's event loop. */
        thread: boolean;
      };
  /** Null in demo mode; later the simulator provides an equivalent config. */
  wecom: WecomConfig | null;
  /** Calls per minute per WeCom API this server allows itself (WeCom's documented limit: 1,000 per API per corp). */
  wecomRateLimitPerMinute: number;
  bot: {
    enabled: boolean;
    puppet: string;
    puppetToken: string | undefined;
    /** How the bot spaces what it sends so the account is not flagged (see the bot's Pacer). */
    pacing: {
      contactIntervalMs: number;
      roomIntervalMs: number;
      jitterMs: number;
      ratePerMinute: number;
      quietHours: { start: string; end: string } | null;
    };
    /** No QR scan and login within this long after start: /healthz shows the bot unhealthy. */
    loginTimeoutMs: number;
    /** Rooms (by name) whose new members the bot welcomes; empty = every room the account is in. */
    managedRooms: string[];
    /** Keyword auto-tag rules; null = none configured (demo mode then uses the demo rules). */
    tagRules: Array<{ tag: string; keywords: string[] }> | null;
  };
  sop: { templatesDir: string; frequencyCapPerDay: number; optOutTag: string };
  adminToken: string;
  sessionSecret: string;
  sessionTtlMs: number;
  /** WeCom userids allowed into the console through WeCom sign-in (ADMIN_TOKEN works regardless). */
  adminUserIds: string[];
  /** Secrets generated for this run because demo mode allows it; main logs that they are ephemeral. */
  generatedSecrets: Array<'ADMIN_TOKEN' | 'SESSION_SECRET'>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const WECOM_VARS = [
  'WECOM_CORP_ID',
  'WECOM_AGENT_ID',
  'WECOM_SECRET',
  'WECOM_TOKEN',
  'WECOM_ENCODING_AES_KEY',
] as const;

/** Parses the environment once; every module receives the result instead of reading process.env. */
export function loadConfig(source: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
    );
  }
  const env = parsed.data;

  const presentWecom = WECOM_VARS.filter((name) => env[name] !== undefined);
  if (presentWecom.length > 0 && presentWecom.length < WECOM_VARS.length) {
    const missing = WECOM_VARS.filter((name) => env[name] === undefined);
    throw new ConfigError(
      missing.map((name) => `${name}: required when other WECOM_* variables are set (or unset them all for demo mode)`),
    );
  }
  const demoMode = presentWecom.length === 0;

  const problems: string[] = [];
  if (!demoMode && env.ADMIN_TOKEN === undefined) problems.push('ADMIN_TOKEN: required outside demo mode');
  if (!demoMode && env.SESSION_SECRET === undefined) problems.push('SESSION_SECRET: required outside demo mode');
  if (problems.length > 0) throw new ConfigError(problems);

  const generatedSecrets: Config['generatedSecrets'] = [];
  const adminToken = env.ADMIN_TOKEN ?? (generatedSecrets.push('ADMIN_TOKEN'), randomBytes(18).toString('base64url'));
  const sessionSecret =
    env.SESSION_SECRET ?? (generatedSecrets.push('SESSION_SECRET'), randomBytes(32).toString('base64url'));

  const dataDir = path.resolve(env.DATA_DIR);
  const localHost = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;

  return {
    env: env.NODE_ENV,
    demoMode,
    http: {
      host: env.HOST,
      port: env.PORT,
      publicUrl: (env.PUBLIC_URL ?? `http://${localHost}:${env.PORT}`).replace(/\/+$/, ''),
      bodyLimitKb: env.HTTP_BODY_LIMIT_KB,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    },
    role: env.ROLE,
    instance: { name: env.INSTANCE_NAME ?? `${os.hostname()}-${process.pid}`, leaseMs: env.LEASE_MS },
    workThreads: env.WORK_THREADS,
    dataDir,
    logLevel: env.LOG_LEVEL,
    timeZone: env.TZ_DEFAULT,
    store:
      env.MONGODB_URI !== undefined
        ? { kind: 'external', uri: env.MONGODB_URI }
        : {
            kind: 'embedded',
            port: env.EMBEDDED_MONGO_PORT,
            dbPath: path.join(dataDir, 'db'),
            fsync: env.EMBEDDED_MONGO_FSYNC,
            thread: env.EMBEDDED_MONGO_THREAD,
          },
    wecom: demoMode
      ? null
      : {
          // The presence check above guarantees these are set.
          corpId: env.WECOM_CORP_ID!,
          agentId: env.WECOM_AGENT_ID!,
          secret: env.WECOM_SECRET!,
          token: env.WECOM_TOKEN!,
          encodingAesKey: env.WECOM_ENCODING_AES_KEY!,
          apiBase: env.WECOM_API_BASE,
          oauthBase: env.WECOM_OAUTH_BASE,
        },
    wecomRateLimitPerMinute: env.WECOM_RATE_LIMIT_PER_MINUTE,
    bot: {
      enabled: env.BOT_ENABLED,
      puppet: env.WECHATY_PUPPET,
      puppetToken: env.WECHATY_PUPPET_TOKEN,
      pacing: {
        contactIntervalMs: env.BOT_CONTACT_INTERVAL_S * 1000,
        roomIntervalMs: env.BOT_ROOM_INTERVAL_S * 1000,
        jitterMs: env.BOT_JITTER_S * 1000,
        ratePerMinute: env.BOT_RATE_PER_MINUTE,
        quietHours: env.BOT_QUIET_HOURS,
      },
      loginTimeoutMs: env.BOT_LOGIN_TIMEOUT_S * 1000,
      managedRooms: env.BOT_MANAGED_ROOMS,
      tagRules: env.BOT_TAG_RULES ?? null,
    },
    sop: {
      templatesDir: path.resolve(env.SOP_TEMPLATES_DIR),
      frequencyCapPerDay: env.SOP_FREQUENCY_CAP_PER_DAY,
      optOutTag: env.SOP_OPT_OUT_TAG,
    },
    adminToken,
    sessionSecret,
    sessionTtlMs: env.SESSION_TTL_HOURS * 3_600_000,
    adminUserIds: env.ADMIN_USERIDS,
    generatedSecrets,
  };
}

/**
 * For process entry points (the server, command-line scripts): reads `.env` if present, parses the
 * environment, and on a bad value prints what is wrong and exits with status 2.
 */
export function readProcessConfig(envFile = '.env'): Config {
  try {
    process.loadEnvFile(envFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nSee .env.example for every variable and its default.\n`);
    process.exit(2);
  }
}
