import { z } from 'zod';
import { CachedCredential } from '../cached-credential.ts';
import type { Clock } from '../clock.ts';
import { get, type Call, type Endpoint } from '../endpoint.ts';

const Ticket = z.object({ ticket: z.string(), expires_in: z.number().int().positive() });

const CORP_TICKET = get('/get_jsapi_ticket', Ticket);
// Same path for other ticket kinds; the type query parameter picks the app-level one.
const AGENT_TICKET = get('/ticket/get', Ticket);

/**
 * JS-SDK tickets for the sidebar: `wx.config` needs the corp ticket, `wx.agentConfig` the app
 * ticket. WeCom limits how often they may be fetched, so both are cached like the token.
 */
export function jsapiApi(call: Call, clock: Clock) {
  const cached = (endpoint: Endpoint<z.infer<typeof Ticket>>, query?: Record<string, string>) =>
    new CachedCredential(async () => {
      const { ticket, expires_in } = await call(endpoint, { query });
      return { value: ticket, expiresIn: expires_in };
    }, clock);
  const corp = cached(CORP_TICKET);
  const agent = cached(AGENT_TICKET, { type: 'agent_config' });
  return {
    getCorpTicket: () => corp.get(),
    getAgentTicket: () => agent.get(),
  };
}
