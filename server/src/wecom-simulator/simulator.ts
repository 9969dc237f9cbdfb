import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import type { Logger } from '../observability/index.ts';
import { CallLog, type SimCall } from './call-log.ts';
import type { CallbackEvent } from './callbacks/events.ts';
import {
  sendCallback,
  signCallback,
  verifyUrl,
  type CallbackDelivery,
  type SendOptions,
  type SignedCallback,
  type UrlVerification,
} from './callbacks/sender.ts';
import { seedDemoCorp } from './demo-seed.ts';
import { FaultPlan, type Fault } from './faults.ts';
import { API_PREFIX, APP_MESSAGES_PATH, createSimServer, listen } from './http.ts';
import type { SimAppMessage, SimCorp } from './model.ts';
import { scanChannelQr, type ChannelScan, type ChannelScanResult } from './scenarios.ts';
import { SimState } from './state.ts';

export interface SimulatorOptions {
  /** 0 (default) = any free port; always on 127.0.0.1. */
  port?: number;
  corp?: Partial<SimCorp>;
  /** 'demo' loads a small realistic corp; 'empty' (default) leaves the data to the test. */
  seed?: 'demo' | 'empty';
  logger?: Logger;
  /** The simulator's clock (token expiry, the 20 s welcome window); tests move it by hand. */
  now?: () => number;
}

export interface WecomSimulator {
  /** Pass to createWecomClient({ apiBase }). */
  apiBase: string;
  /** Stands in for https://open.weixin.qq.com (the OAuth sign-in redirect). */
  oauthBase: string;
  corp: SimCorp;
  /** The corp's data and WeCom's rules over it: add reps, customers, tags; issue codes. */
  state: SimState;
  inject(fault: Fault): void;
  clearFaults(): void;
  /** Every access token issued so far answers 42001 from now on. */
  expireTokens(): void;
  calls(api?: string): SimCall[];
  /** The app messages (message/send) a member received, oldest first; also GET /sim/app-messages?userid=. */
  appMessages(userid: string): SimAppMessage[];
  /** GET it for the same list over HTTP (read-only JSON; the demo console can poll it). */
  appMessagesUrl: string;
  resetCalls(): void;
  sendCallback(url: string, event: CallbackEvent, options?: SendOptions): Promise<CallbackDelivery>;
  /** The signed envelope and query WeCom would send, for load generators. */
  signCallback(event: CallbackEvent, options?: SendOptions): SignedCallback;
  verifyUrl(url: string): Promise<UrlVerification>;
  scanChannelQr(scan: ChannelScan): ChannelScanResult;
  close(): Promise<void>;
}

/** A random corp, so two simulators never accept each other's tokens or callbacks. */
export function randomCorp(): SimCorp {
  return {
    corpId: `ww${randomBytes(8).toString('hex')}`,
    agentId: 1000002,
    secret: randomBytes(32).toString('base64url'),
    token: randomBytes(12).toString('base64url'),
    // 32 random bytes in base64 without the trailing '=' are exactly WeCom's 43-character key.
    encodingAesKey: randomBytes(32).toString('base64').slice(0, 43),
  };
}

export async function startWecomSimulator(options: SimulatorOptions = {}): Promise<WecomSimulator> {
  const corp: SimCorp = { ...randomCorp(), ...options.corp };
  const state = new SimState(corp, options.now ?? Date.now);
  if (options.seed === 'demo') seedDemoCorp(state);
  const faults = new FaultPlan();
  const calls = new CallLog();
  const logger = (options.logger ?? pino({ level: 'silent' })).child({ module: 'wecom-simulator' });
  const server = createSimServer({ state, faults, calls, logger });
  const port = await listen(server, options.port ?? 0);
  logger.info({ port, corpId: corp.corpId }, 'wecom simulator listening');

  return {
    apiBase: `http://127.0.0.1:${port}${API_PREFIX}`,
    oauthBase: `http://127.0.0.1:${port}`,
    corp,
    state,
    inject: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    expireTokens: () => state.expireTokens(),
    calls: (api) => calls.list(api),
    appMessages: (userid) => state.appMessagesOf(userid),
    appMessagesUrl: `http://127.0.0.1:${port}${APP_MESSAGES_PATH}`,
    resetCalls: () => calls.reset(),
    sendCallback: (url, event, sendOptions) => sendCallback(corp, url, event, state.nowSeconds(), sendOptions),
    signCallback: (event, sendOptions) => signCallback(corp, event, state.nowSeconds(), sendOptions),
    verifyUrl: (url) => verifyUrl(corp, url, state.nowSeconds()),
    scanChannelQr: (scan) => scanChannelQr(state, scan),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
