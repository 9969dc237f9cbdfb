import { randomBytes, randomInt } from 'node:crypto';
import { encrypt, getSignature } from '@wecom/crypto';
import type { SimCorp } from '../model.ts';
import { eventXml, type CallbackEvent } from './events.ts';
import { xmlElement } from './xml.ts';

export interface CallbackQuery {
  msg_signature: string;
  timestamp: string;
  nonce: string;
}

export interface CallbackDelivery {
  status: number;
  body: string;
  /** Wall-clock time to the full answer, for demos and benchmarks; tests must not assert on it. */
  latencyMs: number;
  query: CallbackQuery;
  /** The event XML before encryption. */
  plaintext: string;
  /** The POSTed envelope. */
  envelope: string;
}

export interface SendOptions {
  /** Unix seconds used for CreateTime and the timestamp parameter. */
  timestamp?: number;
  nonce?: string;
}

export interface SignedCallback {
  query: CallbackQuery;
  plaintext: string;
  envelope: string;
}

/** Encrypts and signs one event exactly as WeCom does, without sending it (load generators send many). */
export function signCallback(corp: SimCorp, event: CallbackEvent, nowSeconds: number, options: SendOptions = {}): SignedCallback {
  const timestamp = String(options.timestamp ?? nowSeconds);
  const nonce = options.nonce ?? String(randomInt(1e9, 1e10));
  const plaintext = eventXml(corp.corpId, event, event.createTime ?? Number(timestamp));
  const encrypted = encrypt(corp.encodingAesKey, plaintext, corp.corpId, randomBytes(16));
  const query: CallbackQuery = { msg_signature: getSignature(corp.token, timestamp, nonce, encrypted), timestamp, nonce };
  const envelope = `<xml>${xmlElement('ToUserName', corp.corpId)}${xmlElement('Encrypt', encrypted)}${xmlElement('AgentID', String(corp.agentId))}</xml>`;
  return { query, plaintext, envelope };
}

/** Encrypts, signs and POSTs one event to a callback URL, exactly as WeCom does. */
export async function sendCallback(
  corp: SimCorp,
  url: string,
  event: CallbackEvent,
  nowSeconds: number,
  options: SendOptions = {},
): Promise<CallbackDelivery> {
  const signed = signCallback(corp, event, nowSeconds, options);
  const started = performance.now();
  const response = await fetch(withQuery(url, { ...signed.query }), {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body: signed.envelope,
  });
  const body = await response.text();
  return { status: response.status, body, latencyMs: performance.now() - started, ...signed };
}

export interface UrlVerification {
  status: number;
  body: string;
  /** The decrypted echostr the server must answer with. */
  expected: string;
  /** The server answered 200 with exactly the expected text. */
  ok: boolean;
}

/** The GET handshake WeCom performs when an admin saves the callback URL. */
export async function verifyUrl(corp: SimCorp, url: string, nowSeconds: number): Promise<UrlVerification> {
  // WeCom's echostr plaintext is a long decimal number (19 digits in the official vector).
  const expected = randomBytes(8).readBigUInt64BE().toString();
  const echostr = encrypt(corp.encodingAesKey, expected, corp.corpId, randomBytes(16));
  const timestamp = String(nowSeconds);
  const nonce = String(randomInt(1e9, 1e10));
  const msg_signature = getSignature(corp.token, timestamp, nonce, echostr);
  const response = await fetch(withQuery(url, { msg_signature, timestamp, nonce, echostr }));
  const body = await response.text();
  return { status: response.status, body, expected, ok: response.status === 200 && body === expected };
}

/** URLSearchParams percent-encodes '+', '/' and '=' in echostr, as WeCom's own requests do. */
function withQuery(url: string, params: Record<string, string>): string {
  const target = new URL(url);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  return target.toString();
}
