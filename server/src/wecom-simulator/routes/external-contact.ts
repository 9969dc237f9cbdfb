import { z } from 'zod';
import { SimError } from '../errors.ts';
import { checkAttachmentMedia } from './attachments.ts';
import { checkLimit, page } from './paging.ts';
import { renderFollowInfo, renderFollowUser, renderProfile } from './render.ts';
import { route, type Route } from './route.ts';

const BatchBody = z.object({
  userid_list: z.array(z.string()).min(1).max(100),
  cursor: z.string().optional(),
  limit: z.number().int().default(50),
});

const RemarkBody = z.object({
  userid: z.string(),
  external_userid: z.string(),
  remark: z.string().optional(),
  description: z.string().optional(),
  remark_company: z.string().optional(),
  remark_mobiles: z.array(z.string()).optional(),
});

const WelcomeBody = z.object({
  welcome_code: z.string(),
  text: z.object({ content: z.string() }).optional(),
  attachments: z.array(z.unknown()).max(9).optional(),
});

export const externalContactRoutes: Record<string, Route> = {
  '/externalcontact/list': route(({ query, state }) => {
    const userid = query.userid ?? '';
    state.requireRep(userid);
    return { external_userid: state.customersOf(userid).map((c) => c.externalUserid) };
  }),

  '/externalcontact/get': route(({ query, state }) => {
    const contact = state.requireContact(query.external_userid ?? '');
    return {
      external_contact: renderProfile(contact),
      follow_user: contact.follows.map((f) => renderFollowUser(state, f)),
    };
  }),

  '/externalcontact/batch/get_by_user': route(({ body, state }) => {
    const request = BatchBody.parse(body);
    const limit = checkLimit(request.limit, 100);
    for (const userid of request.userid_list) state.requireRep(userid);
    // One entry per (customer, rep) pair, in the reps' order.
    const pairs = request.userid_list.flatMap((userid) =>
      state.customersOf(userid).map((contact) => ({
        external_contact: renderProfile(contact),
        follow_info: renderFollowInfo(contact.follows.find((f) => f.userid === userid)!),
      })),
    );
    const { items, next_cursor } = page(pairs, request.cursor, limit);
    return { external_contact_list: items, next_cursor };
  }),

  '/externalcontact/remark': route(({ body, state }) => {
    const request = RemarkBody.parse(body);
    const follow = state.requireFollow(request.external_userid, request.userid);
    if (request.remark !== undefined) follow.remark = request.remark;
    if (request.description !== undefined) follow.description = request.description;
    if (request.remark_company !== undefined) follow.remarkCorpName = request.remark_company;
    if (request.remark_mobiles !== undefined) follow.remarkMobiles = request.remark_mobiles;
    return {};
  }),

  '/externalcontact/send_welcome_msg': route(({ body, state }) => {
    const request = WelcomeBody.parse(body);
    if (!request.text && !request.attachments?.length) throw new SimError(40058, 'text or attachments required');
    checkAttachmentMedia(state, request.attachments ?? []);
    state.useWelcomeCode(request.welcome_code);
    return {};
  }),
};
