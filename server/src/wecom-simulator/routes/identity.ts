import { z } from 'zod';
import type { Route } from './route.ts';
import { route } from './route.ts';

const Ticket = () => ({ ticket: `sim-ticket-${Math.random().toString(36).slice(2)}`, expires_in: 7200 });

/** Tokens, tickets, sign-in and the rep directory. */
export const identityRoutes: Record<string, Route> = {
  '/gettoken': {
    auth: false,
    handle: ({ query, state }) => state.issueToken(query.corpid ?? '', query.corpsecret ?? ''),
  },
  '/get_jsapi_ticket': route(Ticket),
  '/ticket/get': route(({ query }) => {
    z.literal('agent_config').parse(query.type);
    return Ticket();
  }),
  '/auth/getuserinfo': route(({ query, state }) => ({ userid: state.useOAuthCode(query.code ?? '') })),
  '/user/get': route(({ query, state }) => {
    const rep = state.requireRep(query.userid ?? '');
    return { userid: rep.userid, name: rep.name, position: rep.position ?? '', status: 1 };
  }),
  '/externalcontact/get_follow_user_list': route(({ state }) => ({ follow_user: [...state.reps.keys()] })),
};
