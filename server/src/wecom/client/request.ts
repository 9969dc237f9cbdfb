import { request as httpRequest, type Dispatcher, type FormData } from 'undici';
import { z } from 'zod';
import type { Logger } from '../../observability/index.ts';
import type { CachedCredential } from './cached-credential.ts';
import type { Clock } from './clock.ts';
import type { CallInput, Endpoint } from './endpoint.ts';
import {
  BUSY_ERRCODES,
  STALE_TOKEN_ERRCODES,
  WecomApiError,
  WecomResponseError,
  WecomTransportError,
  type WecomError,
} from './errors.ts';
import type { RateLimiter } from './rate-limit.ts';
import { redactText } from './redact.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type CallObserver = (api: string, outcome: 'ok' | 'error', errcode: number) => void;

export interface RequestDeps {
  apiBase: string;
  /** The HTTP connection pool (undici's global one by default). */
  dispatcher?: Dispatcher | undefined;
  clock: Clock;
  logger: Logger;
  retry: RetryPolicy;
  timeoutMs: number;
  random: () => number;
  /** Strings that must never leak into an error message (the corp secret). */
  secrets: readonly string[];
  onCall?: CallObserver | undefined;
}

const Envelope = z.object({ errcode: z.number().optional(), errmsg: z.string().optional() });

type Outcome<T> = { ok: true; data: T } | { ok: false; error: WecomError };

/**
 * The one way the client talks to WeCom. `token` is absent only for gettoken itself; `limiter`
 * is absent for gettoken too, whose cost single-flight caching already bounds.
 */
export function createRequest(deps: RequestDeps) {
  return async function request<T>(
    endpoint: Endpoint<T>,
    input: CallInput,
    auth: { token?: CachedCredential; limiter?: RateLimiter },
  ): Promise<T> {
    let attempt = 1;
    let tokenRefreshed = false;
    // Every token this call has sent, so an error echoing an earlier one is still masked.
    const sentTokens: string[] = [];
    for (;;) {
      const accessToken = auth.token ? await auth.token.get() : undefined;
      if (accessToken !== undefined) sentTokens.push(accessToken);
      await auth.limiter?.acquire();
      const outcome = await exchange(deps, endpoint, input, { accessToken, secrets: [...deps.secrets, ...sentTokens] }, attempt);
      if (outcome.ok) return outcome.data;
      const { error } = outcome;
      if (
        error instanceof WecomApiError &&
        STALE_TOKEN_ERRCODES.has(error.errcode) &&
        accessToken !== undefined &&
        auth.token &&
        !tokenRefreshed
      ) {
        // Once only: a fresh token refused again means something else is wrong, and looping would hammer gettoken.
        auth.token.invalidate(accessToken);
        tokenRefreshed = true;
        continue;
      }
      if (!error.retryable || attempt >= deps.retry.maxAttempts) throw error;
      await deps.clock.sleep(backoffMs(deps.retry, attempt, deps.random));
      attempt += 1;
    }
  };
}

/** Exponential backoff with "equal jitter": half fixed, half random, so synchronized callers spread out. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

interface Credentials {
  accessToken: string | undefined;
  /** What must be masked in any error text. */
  secrets: readonly string[];
}

async function exchange<T>(
  deps: RequestDeps,
  endpoint: Endpoint<T>,
  input: CallInput,
  credentials: Credentials,
  attempt: number,
): Promise<Outcome<T>> {
  const api = endpoint.path;
  const started = performance.now();
  const outcome = await send(deps, endpoint, input, credentials);
  const errcode = outcome.ok ? 0 : outcome.error instanceof WecomApiError ? outcome.error.errcode : transportCode(outcome.error);
  deps.logger.debug({ api, attempt, ms: Math.round(performance.now() - started), errcode }, 'wecom call');
  deps.onCall?.(api, outcome.ok ? 'ok' : 'error', errcode);
  return outcome;
}

/** For the metrics hook: transport failures report the HTTP status, 0 when no response arrived. */
function transportCode(error: WecomError): number {
  return error instanceof WecomTransportError ? (error.status ?? 0) : 0;
}

async function send<T>(
  deps: RequestDeps,
  endpoint: Endpoint<T>,
  input: CallInput,
  { accessToken, secrets }: Credentials,
): Promise<Outcome<T>> {
  const api = endpoint.path;
  const url = buildUrl(deps.apiBase, api, { ...input.query, ...(accessToken === undefined ? {} : { access_token: accessToken }) });
  const transportFailure = (detail: string, status: number | undefined): Outcome<T> => ({
    ok: false,
    error: new WecomTransportError(
      api,
      redactText(detail, secrets),
      status,
      // A 429 or a lost answer to a write may or may not have been applied: only reads are safe to repeat.
      endpoint.idempotent && (status === undefined || status >= 500 || status === 429),
    ),
  });

  let text: string;
  let status: number;
  try {
    // undici's request rather than fetch: a third of the CPU per call, which a campaign's mass sends feel.
    const response = await httpRequest(url, {
      method: endpoint.method,
      ...requestBody(input),
      signal: AbortSignal.timeout(deps.timeoutMs),
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (err) {
    return transportFailure(describeNetworkError(err), undefined);
  }
  if (status < 200 || status >= 300) return transportFailure(`HTTP ${status}`, status);

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return transportFailure(`HTTP ${status} with a body that is not JSON`, status);
  }
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) return { ok: false, error: new WecomResponseError(api, 'not a JSON object') };
  const errcode = envelope.data.errcode ?? 0;
  if (errcode !== 0) {
    const errmsg = redactText(envelope.data.errmsg ?? '', secrets);
    // 45009/45033 mean WeCom refused the call, so repeating it is safe; -1 ("busy") does not say whether
    // the call took effect, so a call that creates something (a mass-send task) is not repeated on it.
    const retryable = BUSY_ERRCODES.has(errcode) && (endpoint.idempotent || errcode !== -1);
    return { ok: false, error: new WecomApiError(api, errcode, errmsg, retryable) };
  }
  const parsed = endpoint.response.safeParse(json);
  if (!parsed.success) return { ok: false, error: new WecomResponseError(api, z.prettifyError(parsed.error)) };
  return { ok: true, data: parsed.data };
}

function requestBody(input: CallInput): { headers?: Record<string, string>; body?: string | FormData } {
  if (input.form) return { body: input.form };
  if (input.body === undefined) return {};
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(input.body) };
}

function buildUrl(apiBase: string, path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const search = params.toString();
  return `${apiBase.replace(/\/+$/, '')}${path}${search ? `?${search}` : ''}`;
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return 'network error';
  if (err.name === 'TimeoutError') return 'no answer before the timeout';
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
