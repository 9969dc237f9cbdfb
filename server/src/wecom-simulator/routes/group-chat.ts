import { z } from 'zod';
import { checkLimit, page } from './paging.ts';
import { renderGroupChat } from './render.ts';
import { route, type Route } from './route.ts';

const ListBody = z.object({
  status_filter: z.number().int().min(0).max(3).default(0),
  owner_filter: z.object({ userid_list: z.array(z.string()) }).optional(),
  cursor: z.string().optional(),
  limit: z.number().int(),
});

const GetBody = z.object({ chat_id: z.string(), need_name: z.number().int().optional() });

export const groupChatRoutes: Record<string, Route> = {
  '/externalcontact/groupchat/list': route(({ body, state }) => {
    const request = ListBody.parse(body);
    const limit = checkLimit(request.limit, 1000);
    const owners = request.owner_filter?.userid_list;
    const chats = [...state.groupChats.values()].filter(
      (c) => (request.status_filter === 0 || c.status === request.status_filter) && (!owners?.length || owners.includes(c.owner)),
    );
    const { items, next_cursor } = page(chats, request.cursor, limit);
    return { group_chat_list: items.map((c) => ({ chat_id: c.chatId, status: c.status })), next_cursor };
  }),

  '/externalcontact/groupchat/get': route(({ body, state }) => {
    const request = GetBody.parse(body);
    return { group_chat: renderGroupChat(state.requireGroupChat(request.chat_id), request.need_name === 1) };
  }),
};
