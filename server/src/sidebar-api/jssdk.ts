import { createHash, randomBytes } from 'node:crypto';

/**
 * The JS-SDK signature (WeCom path/90506): sha1 over the raw values in this fixed order, with the
 * page URL cut at `#` because the fragment never reaches WeCom's check.
 */
export function jsapiSignature(input: { ticket: string; nonceStr: string; timestamp: number; url: string }): string {
  const url = input.url.split('#')[0]!;
  return createHash('sha1')
    .update(`jsapi_ticket=${input.ticket}&noncestr=${input.nonceStr}&timestamp=${input.timestamp}&url=${url}`)
    .digest('hex');
}

export interface JssdkConfig {
  corpId: string;
  agentId: string;
  timestamp: number;
  nonceStr: string;
  /** For ww.register's getConfigSignature (corp jsapi ticket). */
  signature: string;
  /** For ww.register's getAgentConfigSignature (the app's agent_config ticket). */
  agentSignature: string;
}

/** Both signatures ww.register asks for, over one nonce and timestamp. */
export async function jssdkConfig(
  deps: { corpId: string; agentId: string; tickets: { getCorpTicket(): Promise<string>; getAgentTicket(): Promise<string> } },
  url: string,
  now: Date,
): Promise<JssdkConfig> {
  const [corpTicket, agentTicket] = await Promise.all([deps.tickets.getCorpTicket(), deps.tickets.getAgentTicket()]);
  const timestamp = Math.floor(now.getTime() / 1000);
  const nonceStr = randomBytes(12).toString('base64url');
  return {
    corpId: deps.corpId,
    agentId: deps.agentId,
    timestamp,
    nonceStr,
    signature: jsapiSignature({ ticket: corpTicket, nonceStr, timestamp, url }),
    agentSignature: jsapiSignature({ ticket: agentTicket, nonceStr, timestamp, url }),
  };
}
