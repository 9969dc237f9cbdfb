import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { ZodError, z } from 'zod';
import type { Logger } from '../observability/index.ts';
import type { CallLog, SimCall } from './call-log.ts';
import { SimError, defaultErrmsg } from './errors.ts';
import type { FaultPlan } from './faults.ts';
import { routes } from './routes/index.ts';
import type { SimUpload } from './routes/route.ts';
import type { SimState } from './state.ts';

export const API_PREFIX = '/cgi-bin';

interface Deps {
  state: SimState;
  faults: FaultPlan;
  calls: CallLog;
  logger: Logger;
}

/** qyapi over HTTP: faults first, then the access token, then the route's own rules. */
export function createSimServer(deps: Deps): http.Server {
  return http.createServer((req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      deps.logger.error({ err }, 'wecom simulator failed');
      if (!res.headersSent) res.writeHead(500).end('simulator error');
    });
  });
}

/** WeCom's OAuth page (open.weixin.qq.com) signs the visitor in silently for snsapi_base. */
const OAUTH_AUTHORIZE_PATH = '/connect/oauth2/authorize';

async function handle(deps: Deps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  if (url.pathname === OAUTH_AUTHORIZE_PATH) return authorize(deps.state, url, res);
  if (url.pathname === APP_MESSAGES_PATH) return appMessages(deps.state, url, res);
  const api = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : url.pathname;
  const raw = await readBody(req);
  const multipart = /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
  const upload = multipart ? await readUpload(raw, req.headers['content-type']!) : undefined;
  const body = multipart ? { valid: true, value: upload ? describeUpload(upload) : {} } : parseJson(raw.toString('utf8'));
  const call = deps.calls.record({
    api,
    method: req.method ?? 'GET',
    query: Object.fromEntries(url.searchParams),
    body: body.value,
    at: deps.state.now(),
  });

  const fault = deps.faults.take(api);
  if (fault?.delayMs) await delay(fault.delayMs);
  if (fault?.dropConnection) {
    req.socket.destroy();
    return;
  }
  if (fault?.httpStatus !== undefined) {
    res.writeHead(fault.httpStatus, { 'content-type': 'text/html' }).end('<html><body>gateway error</body></html>');
    return;
  }
  let answer: Answer;
  if (fault?.errcode !== undefined) answer = errorAnswer(fault.errcode, fault.errmsg);
  else if (!body.valid) answer = errorAnswer(47001, 'data format error');
  else answer = answerFor(deps.state, api, call, upload);
  call.errcode = answer.errcode;
  deps.logger.debug({ api, errcode: answer.errcode }, 'wecom simulator call');
  res.writeHead(answer.status ?? 200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer.body));
}

/**
 * Redirects back with a one-time code for the visitor, as WeCom does inside its client. The
 * simulator's visitor is `sim_userid` when given (tests pick a rep), else the first rep.
 */
function authorize(state: SimState, url: URL, res: http.ServerResponse): void {
  const redirect = url.searchParams.get('redirect_uri');
  const userid = url.searchParams.get('sim_userid') ?? state.reps.keys().next().value;
  if (!redirect || !/^https?:\/\//.test(redirect) || !userid || !state.reps.has(userid)) {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('redirect_uri and a known rep are required');
    return;
  }
  const back = new URL(redirect);
  back.searchParams.set('code', state.issueOAuthCode(userid));
  back.searchParams.set('state', url.searchParams.get('state') ?? '');
  res.writeHead(302, { location: back.toString() }).end();
}

interface Answer {
  status?: number;
  errcode: number;
  body: Record<string, unknown>;
}

function answerFor(state: SimState, api: string, call: SimCall, upload: SimUpload | undefined): Answer {
  const route = routes.get(api);
  if (!route) return { status: 404, errcode: 404, body: { errcode: 404, errmsg: `no such api ${api}` } };
  try {
    if (route.auth) state.checkToken(call.query.access_token);
    const fields = route.handle({ query: call.query, body: call.body, state, ...(upload ? { upload } : {}) });
    return { errcode: 0, body: { errcode: 0, errmsg: 'ok', ...fields } };
  } catch (err) {
    if (err instanceof SimError) return errorAnswer(err.errcode, err.message);
    if (err instanceof ZodError) return errorAnswer(40058, `invalid parameter: ${z.prettifyError(err)}`);
    throw err;
  }
}

function errorAnswer(errcode: number, errmsg?: string): Answer {
  return { errcode, body: { errcode, errmsg: errmsg ?? defaultErrmsg(errcode) } };
}

/** An unparseable body is kept as text in the call log, so a test can see what was sent. */
function parseJson(raw: string): { valid: boolean; value: unknown } {
  if (!raw) return { valid: true, value: undefined };
  try {
    return { valid: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { valid: false, value: raw };
  }
}

/** Above WeCom's largest synchronous upload (20 MB files), so the size rules answer, not the socket. */
const MAX_BODY_BYTES = 24 * 1024 * 1024;

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error(`simulator: request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The `media` part of a multipart body, parsed by undici as fetch's own Response would. */
async function readUpload(raw: Buffer, contentType: string): Promise<SimUpload | undefined> {
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
  const media = form.get('media');
  if (!media || typeof media === 'string') return undefined;
  return { filename: media.name, contentType: media.type, bytes: Buffer.from(await media.arrayBuffer()) };
}

/** The call log keeps what was uploaded, not the bytes. */
function describeUpload(upload: SimUpload) {
  return { media: { filename: upload.filename, contentType: upload.contentType, size: upload.bytes.length } };
}

/** Read-only: the app messages a member received, newest last (`?userid=`; all members without it). */
export const APP_MESSAGES_PATH = '/sim/app-messages';

function appMessages(state: SimState, url: URL, res: http.ServerResponse): void {
  const userid = url.searchParams.get('userid');
  const messages = userid === null ? state.allAppMessages() : state.appMessagesOf(userid);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify({ messages }));
}

export async function listen(server: http.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
