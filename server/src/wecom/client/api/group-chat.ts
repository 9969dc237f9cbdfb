import { z } from 'zod';
import { post, type Call } from '../endpoint.ts';
import { paginate } from '../pagination.ts';
import { NextCursor } from './common.ts';

export interface ListGroupChatsRequest {
  /** 0 = all, 1 = owner left, 2 = being handed over, 3 = hand-over done. */
  status_filter?: 0 | 1 | 2 | 3;
  owner_filter?: { userid_list: string[] };
  cursor?: string;
  /** 1..1000. */
  limit: number;
}

const ListResponse = z.object({
  group_chat_list: z.array(z.object({ chat_id: z.string(), status: z.number().int() })).default([]),
  next_cursor: NextCursor,
});
export type GroupChatListPage = z.infer<typeof ListResponse>;
export type GroupChatSummary = GroupChatListPage['group_chat_list'][number];

export const GroupMember = z.object({
  userid: z.string(),
  /** 1 = corp member, 2 = external contact. */
  type: z.number().int(),
  join_time: z.number().int(),
  /** 1 = invited directly, 2 = invited by link, 3 = scanned the group QR. */
  join_scene: z.number().int(),
  invitor: z.object({ userid: z.string() }).optional(),
  group_nickname: z.string().optional(),
  name: z.string().optional(),
  unionid: z.string().optional(),
});
export type GroupMember = z.infer<typeof GroupMember>;

const GetResponse = z.object({
  group_chat: z.object({
    chat_id: z.string(),
    name: z.string().default(''),
    owner: z.string(),
    create_time: z.number().int(),
    notice: z.string().optional(),
    member_list: z.array(GroupMember).default([]),
    admin_list: z.array(z.object({ userid: z.string() })).default([]),
    member_version: z.string().optional(),
  }),
});
export type GroupChatDetail = z.infer<typeof GetResponse>['group_chat'];

const LIST = post('/externalcontact/groupchat/list', ListResponse, { idempotent: true });
const GET = post('/externalcontact/groupchat/get', GetResponse, { idempotent: true });

export function groupChatApi(call: Call) {
  const list = (request: ListGroupChatsRequest) => call(LIST, { body: { cursor: '', ...request } });
  return {
    list,
    /** Every group matching the filter, across all pages. */
    async *iterate(request: Omit<ListGroupChatsRequest, 'cursor'>): AsyncGenerator<GroupChatSummary> {
      for await (const page of paginate((cursor) => list({ ...request, cursor }))) yield* page.group_chat_list;
    },
    /** `need_name` asks WeCom to fill in members' display names. */
    get: async (chat_id: string, need_name = false) =>
      (await call(GET, { body: { chat_id, need_name: need_name ? 1 : 0 } })).group_chat,
  };
}
