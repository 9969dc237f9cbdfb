import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { Logger } from '../../observability/index.ts';
import { authApi } from './api/auth.ts';
import { contactWayApi } from './api/contact-way.ts';
import { externalContactApi } from './api/external-contact.ts';
import { groupChatApi } from './api/group-chat.ts';
import { groupWelcomeApi } from './api/group-welcome.ts';
import { jsapiApi } from './api/jsapi.ts';
import { massSendApi } from './api/mass-send.ts';
import { mediaApi } from './api/media.ts';
import { messageApi } from './api/message.ts';
import { tagsApi } from './api/tags.ts';
import { userApi } from './api/user.ts';
import { welcomeApi } from './api/welcome.ts';
import { CachedCredential } from './cached-credential.ts';
import { systemClock, type Clock } from './clock.ts';
import { get, type Call } from './endpoint.ts';
import { RateLimiter } from './rate-limit.ts';
import { createRequest, type CallObserver, type RetryPolicy } from './request.ts';

export const DEFAULT_API_BASE = 'https://qyapi.weixin.qq.com/cgi-bin';

export interface WecomClientOptions {
  /** Defaults to qyapi; the simulator's apiBase in demo mode and tests. */
  apiBase?: string;
  corpId: string;
  /** The secret of the app the client acts as. */
  secret: string;
  logger: Logger;
  /** The HTTP connection pool (undici's global one by default). */
  dispatcher?: Dispatcher;
  /** Client-side budget per API (WeCom's documented limit is 1,000/min per API per corp). */
  rateLimitPerMinute?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  retry?: Partial<RetryPolicy>;
  /** Per HTTP exchange; defaults to 15 s. */
  timeoutMs?: number;
  /** Jitter source for backoff, in [0, 1). */
  random?: () => number;
  /**
   * Called once per HTTP exchange with WeCom (retries count separately, gettoken included).
   * errcode is WeCom's, or for transport failures the HTTP status (0 when nothing came back).
   */
  onCall?: CallObserver;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 };

const Token = z.object({ access_token: z.string(), expires_in: z.number().int().positive() });
const GET_TOKEN = get('/gettoken', Token);

export type WecomClient = ReturnType<typeof createWecomClient>;

/** A typed client for the WeCom server API, one per (corp, app secret). */
export function createWecomClient(options: WecomClientOptions) {
  const clock: Clock = { now: options.now ?? systemClock.now, sleep: options.sleep ?? systemClock.sleep };
  const request = createRequest({
    apiBase: options.apiBase ?? DEFAULT_API_BASE,
    dispatcher: options.dispatcher,
    clock,
    logger: options.logger.child({ module: 'wecom-client' }),
    retry: { ...DEFAULT_RETRY, ...options.retry },
    timeoutMs: options.timeoutMs ?? 15_000,
    random: options.random ?? Math.random,
    secrets: [options.secret],
    onCall: options.onCall,
  });

  const token = new CachedCredential(async () => {
    const answer = await request(GET_TOKEN, { query: { corpid: options.corpId, corpsecret: options.secret } }, {});
    return { value: answer.access_token, expiresIn: answer.expires_in };
  }, clock);
  // One bucket per API, as WeCom counts: a burst of welcomes must not starve externalcontact/get.
  const limiters = new Map<string, RateLimiter>();
  const limiterFor = (path: string) => {
    let limiter = limiters.get(path);
    if (!limiter) limiters.set(path, (limiter = new RateLimiter(options.rateLimitPerMinute ?? 1_000, clock)));
    return limiter;
  };
  const call: Call = (endpoint, input = {}) => request(endpoint, input, { token, limiter: limiterFor(endpoint.path) });

  return {
    /** The current access token (cached, refreshed single-flight). Never log it. */
    getAccessToken: () => token.get(),
    externalContact: externalContactApi(call),
    tags: tagsApi(call),
    welcome: welcomeApi(call),
    massSend: massSendApi(call),
    groupChat: groupChatApi(call),
    groupWelcome: groupWelcomeApi(call),
    contactWay: contactWayApi(call),
    user: userApi(call),
    jsapi: jsapiApi(call, clock),
    auth: authApi(call),
    media: mediaApi(call),
    message: messageApi(call),
  };
}
