import type { AppContext } from '../http/index.ts';
import { WecomApiError, WecomError } from '../wecom/index.ts';
import { TagLibraryError } from './library.ts';

/** WeCom refuses the name: a tag of that name in the group, or a group of that name in the corp. */
const NAME_EXISTS = 40071;
/** WeCom does not know the tag or group id. */
const UNKNOWN_TAG = 40068;

/**
 * Answers a refused library change (the library's own 404/409) or a failed WeCom tag call as the
 * operator needs it: a clash of names is the request's conflict (409), an id WeCom no longer
 * knows is a 404, anything else is WeCom's fault (502).
 */
export function answerTagFailure(ctx: AppContext, err: unknown, field: string): void {
  if (err instanceof TagLibraryError) ctx.throw(err.status, err.message, err.status === 409 ? { code: 'conflict' } : {});
  if (err instanceof WecomApiError && err.errcode === NAME_EXISTS) {
    ctx.throw(409, `${field}: WeCom already has that name (${err.hint ?? err.errmsg})`, { code: 'conflict' });
  }
  if (err instanceof WecomApiError && err.errcode === UNKNOWN_TAG) {
    ctx.throw(404, `${field}: WeCom does not know this id (deleted in WeCom? run npm run sync)`);
  }
  if (err instanceof WecomError) {
    // Not the request's fault: 502 with the token-free reason (a thrown 5xx would be answered opaquely).
    ctx.status = 502;
    ctx.body = { error: 'wecom_error', message: err.message, retryable: err.retryable };
    return;
  }
  throw err;
}

/** Runs one library change and answers its refusal as answerTagFailure does (each write route's try/catch, once). */
export async function answeringTagFailure(ctx: AppContext, field: string, change: () => Promise<void>): Promise<void> {
  try {
    await change();
  } catch (err) {
    answerTagFailure(ctx, err, field);
  }
}
