import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import { ZodError } from 'zod';
import type { Logger, Metrics } from '../observability/index.ts';
import type { AppContext } from './context.ts';

const INCOMING_ID = /^[\w.:-]{1,64}$/;

/** Tags the request with an id (the caller's X-Request-Id when sane) and a child logger carrying it. */
export function requestContext(logger: Logger) {
  return async (ctx: AppContext, next: Next) => {
    const incoming = ctx.get('x-request-id');
    ctx.state.requestId = INCOMING_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.log = logger.child({ reqId: ctx.state.requestId });
    ctx.set('X-Request-Id', ctx.state.requestId);
    await next();
  };
}

/** Access log + Prometheus counters. Route labels come from the matched pattern so ids in URLs don't explode cardinality. */
export function observeRequests(metrics: Metrics) {
  return async (ctx: AppContext, next: Next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
      metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
      metrics.httpDuration.observe({ method: ctx.method, route }, seconds);
      ctx.state.log.debug(
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1e4) / 10 },
        'request',
      );
    }
  };
}

interface ExposedHttpError {
  status: number;
  expose?: boolean;
  message: string;
  code?: string;
  /** More fields of the answer, e.g. the located problems of an invalid journey. */
  extra?: Record<string, unknown>;
}

function isHttpError(err: unknown): err is ExposedHttpError {
  return typeof err === 'object' && err !== null && typeof (err as { status?: unknown }).status === 'number';
}

/**
 * Turns every failure into JSON. Validation problems name the offending field; client errors keep
 * their message; anything else is logged with its stack and answered as an opaque 500.
 */
export function errorResponses() {
  return async (ctx: AppContext, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: 'not_found', message: `No route for ${ctx.method} ${ctx.path}` };
      }
    } catch (err) {
      if (err instanceof ZodError) {
        ctx.status = 400;
        ctx.body = {
          error: 'invalid_request',
          message: err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
          issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        };
      } else if (isHttpError(err) && err.status >= 400 && err.status < 500) {
        ctx.status = err.status;
        ctx.body = { error: err.code ?? errorCode(err.status), message: err.expose === false ? 'Bad request' : err.message, ...(err.expose === false ? {} : err.extra) };
      } else {
        ctx.state.log.error({ err }, 'unhandled error');
        ctx.status = isHttpError(err) && err.status >= 500 ? err.status : 500;
        ctx.body = { error: 'internal_error', message: 'Internal server error', requestId: ctx.state.requestId };
      }
    }
  };
}

function errorCode(status: number): string {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    default:
      return 'bad_request';
  }
}
