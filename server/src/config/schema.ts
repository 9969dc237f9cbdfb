import { z } from 'zod';

/** Env files often carry `KEY=` for "not set": treat blank as absent so defaults apply. */
const blankAsUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optionalString = z.preprocess(blankAsUndefined, z.string().trim().optional());

const booleanFlag = (fallback: boolean) =>
  z.preprocess(
    blankAsUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
        error: 'must be one of true/false/1/0/yes/no/on/off',
      })
      .default(fallback ? 'true' : 'false')
      .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
  );

const port = (fallback: number) =>
  z.preprocess(
    blankAsUndefined,
    z.coerce
      .number({ error: 'must be a port number (0-65535)' })
      .int('must be a whole number')
      .min(0, 'must be between 0 and 65535')
      .max(65535, 'must be between 0 and 65535')
      .default(fallback),
  );

const positiveInt = (fallback: number) =>
  z.preprocess(blankAsUndefined, z.coerce.number().int().positive().default(fallback));

const intInRange = (min: number, max: number, fallback: number) =>
  z.preprocess(blankAsUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

/** "a, b,c" → ['a', 'b', 'c']; unset or blank → []. */
const commaList = z.preprocess(
  blankAsUndefined,
  z
    .string()
    .default('')
    .transform((list) => list.split(',').map((item) => item.trim()).filter(Boolean)),
);

const timeZone = z.preprocess(
  blankAsUndefined,
  z
    .string()
    .default('Asia/Shanghai')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Asia/Shanghai'),
);

/** A local time window such as 22:00-08:00 (it may wrap midnight). */
const QUIET_HOURS = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** WeCom's EncodingAESKey is 43 base64 characters that decode (with a trailing '=') to a 32-byte AES key. */
const encodingAesKey = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}$/, 'must be the 43-character EncodingAESKey from the WeCom admin console')
  .refine((key) => Buffer.from(`${key}=`, 'base64').length === 32, 'must decode to a 32-byte key');

export const envSchema = z.object({
  NODE_ENV: z.preprocess(blankAsUndefined, z.enum(['development', 'production', 'test']).default('development')),
  PORT: port(3000),
  HOST: z.preprocess(blankAsUndefined, z.string().default('0.0.0.0')),
  PUBLIC_URL: z.preprocess(blankAsUndefined, httpUrl.optional()),
  DATA_DIR: z.preprocess(blankAsUndefined, z.string().default('./data')),
  LOG_LEVEL: z.preprocess(
    blankAsUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  TZ_DEFAULT: timeZone,
  HTTP_BODY_LIMIT_KB: positiveInt(1024),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  ROLE: z.preprocess(
    blankAsUndefined,
    z.enum(['all', 'web', 'worker'], { error: 'must be all (HTTP and background work), web (HTTP only) or worker (background work only)' }).default('all'),
  ),
  INSTANCE_NAME: optionalString,
  // Each is a worker instance in a thread of this process (the inbox, SOP jobs, sends): the event loop
  // that answers callbacks is then not the only one processing them.
  WORK_THREADS: z.preprocess(
    blankAsUndefined,
    z.coerce.number({ error: 'must be a number of threads' }).int('must be a whole number').min(0, 'must be 0 or more').max(8, 'must be at most 8').default(0),
  ),
  // Below a second a store round trip or a GC pause could eat the renewal margin; tests go that low, production should not.
  LEASE_MS: z.preprocess(
    blankAsUndefined,
    z.coerce
      .number({ error: 'must be a number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(300, 'must be at least 300 ms')
      .max(600_000, 'must be at most 600000 ms (10 minutes)')
      .default(30_000),
  ),

  MONGODB_URI: z.preprocess(
    blankAsUndefined,
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
      .optional(),
  ),
  EMBEDDED_MONGO_PORT: port(0),
  EMBEDDED_MONGO_THREAD: booleanFlag(true),
  EMBEDDED_MONGO_FSYNC: z.preprocess(blankAsUndefined, z.enum(['always', 'batch', 'never']).default('batch')),

  WECOM_CORP_ID: optionalString,
  WECOM_AGENT_ID: z.preprocess(blankAsUndefined, z.string().regex(/^\d+$/, 'must be the numeric AgentId').optional()),
  WECOM_SECRET: optionalString,
  WECOM_TOKEN: optionalString,
  WECOM_ENCODING_AES_KEY: z.preprocess(blankAsUndefined, encodingAesKey.optional()),
  WECOM_RATE_LIMIT_PER_MINUTE: positiveInt(1_000),
  WECOM_OAUTH_BASE: z.preprocess(blankAsUndefined, httpUrl.default('https://open.weixin.qq.com')),
  WECOM_API_BASE: z.preprocess(blankAsUndefined, httpUrl.default('https://qyapi.weixin.qq.com/cgi-bin')),

  BOT_ENABLED: booleanFlag(true),
  WECHATY_PUPPET: z.preprocess(blankAsUndefined, z.string().default('wechaty-puppet-wechat4u')),
  WECHATY_PUPPET_TOKEN: optionalString,
  BOT_CONTACT_INTERVAL_S: positiveInt(30),
  BOT_ROOM_INTERVAL_S: positiveInt(60),
  BOT_JITTER_S: intInRange(0, 3_600, 15),
  BOT_RATE_PER_MINUTE: intInRange(1, 600, 20),
  BOT_QUIET_HOURS: z.preprocess(
    blankAsUndefined,
    z
      .string()
      .default('22:00-08:00')
      .refine((v) => v === 'off' || QUIET_HOURS.test(v), 'must be HH:MM-HH:MM (e.g. 22:00-08:00) or off')
      .transform((v) => (v === 'off' ? null : { start: v.slice(0, 5), end: v.slice(6) })),
  ),
  BOT_LOGIN_TIMEOUT_S: positiveInt(300),
  BOT_MANAGED_ROOMS: commaList,
  BOT_TAG_RULES: z.preprocess(
    blankAsUndefined,
    z
      .string()
      .transform((json, ctx) => {
        try {
          return JSON.parse(json) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. [{"tag":"A类-高意向","keywords":["报价","多少钱"]}]' });
          return z.NEVER;
        }
      })
      .pipe(
        z
          .array(
            z.object({
              tag: z.string().trim().min(1).max(30),
              keywords: z.array(z.string().trim().min(1).max(30)).min(1).max(50),
            }),
          )
          .max(200),
      )
      .optional(),
  ),

  SOP_TEMPLATES_DIR: z.preprocess(blankAsUndefined, z.string().default('./sop-templates')),
  SOP_FREQUENCY_CAP_PER_DAY: intInRange(1, 20, 1),
  SOP_OPT_OUT_TAG: z.preprocess(blankAsUndefined, z.string().min(1).default('拒收营销')),

  ADMIN_TOKEN: z.preprocess(blankAsUndefined, z.string().min(16, 'must be at least 16 characters').optional()),
  SESSION_SECRET: z.preprocess(blankAsUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  SESSION_TTL_HOURS: intInRange(1, 24 * 30, 12),
  ADMIN_USERIDS: commaList,
});

export type Env = z.infer<typeof envSchema>;
