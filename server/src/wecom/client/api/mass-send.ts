import { z } from 'zod';
import { post, type Call } from '../endpoint.ts';
import { NextCursor, UnixSeconds, type Attachment, type TextContent } from './common.ts';

export interface AddTemplateRequest {
  chat_type: 'single' | 'group';
  /** For chat_type single: at most 10,000 customers. */
  external_userid?: string[];
  /** For chat_type group: the groups to send to (otherwise all of the sender's groups). */
  chat_id_list?: string[];
  sender?: string;
  text?: TextContent;
  attachments?: Attachment[];
  allow_select?: boolean;
}

const AddTemplateResponse = z.object({
  msgid: z.string(),
  /** Recipients WeCom refused (not a customer of the sender, unknown...). */
  fail_list: z.array(z.string()).default([]),
});
export type AddTemplateResult = z.infer<typeof AddTemplateResponse>;

export interface GroupMsgListRequest {
  chat_type: 'single' | 'group';
  start_time: number;
  end_time: number;
  creator?: string;
  /** 0 = created by the enterprise, 1 = by reps, 2 = all. */
  filter_type?: 0 | 1 | 2;
  limit?: number;
  cursor?: string;
}

const GroupMsgListResponse = z.object({
  next_cursor: NextCursor,
  group_msg_list: z
    .array(
      z.object({
        msgid: z.string(),
        creator: z.string().optional(),
        create_time: UnixSeconds,
        /** 0 = enterprise, 1 = rep. */
        create_type: z.number().int(),
        text: z.object({ content: z.string() }).optional(),
        attachments: z.array(z.unknown()).optional(),
      }),
    )
    .default([]),
});
export type GroupMsgListPage = z.infer<typeof GroupMsgListResponse>;

export interface GroupMsgPageRequest {
  msgid: string;
  limit?: number;
  cursor?: string;
}

const TaskResponse = z.object({
  next_cursor: NextCursor,
  /** status: 0 = rep has not sent it yet, 2 = sent. */
  task_list: z
    .array(z.object({ userid: z.string(), status: z.number().int(), send_time: z.number().int().optional() }))
    .default([]),
});
export type GroupMsgTaskPage = z.infer<typeof TaskResponse>;

const SendResultResponse = z.object({
  next_cursor: NextCursor,
  /** status: 0 = not sent, 1 = sent, 2 = not a friend any more, 3 = already got another mass message. */
  send_list: z
    .array(
      z.object({
        external_userid: z.string().optional(),
        chat_id: z.string().optional(),
        userid: z.string(),
        status: z.number().int(),
        send_time: z.number().int().optional(),
      }),
    )
    .default([]),
});
export type GroupMsgSendResultPage = z.infer<typeof SendResultResponse>;

// Creating a task twice would ask the rep to send twice.
const ADD_TEMPLATE = post('/externalcontact/add_msg_template', AddTemplateResponse, { idempotent: false });
const LIST_V2 = post('/externalcontact/get_groupmsg_list_v2', GroupMsgListResponse, { idempotent: true });
const TASK = post('/externalcontact/get_groupmsg_task', TaskResponse, { idempotent: true });
const SEND_RESULT = post('/externalcontact/get_groupmsg_send_result', SendResultResponse, { idempotent: true });

export function massSendApi(call: Call) {
  return {
    /** Creates a mass-send task; nothing reaches customers until each rep confirms it in WeCom. */
    addTemplate: (request: AddTemplateRequest) => call(ADD_TEMPLATE, { body: request }),
    getGroupMsgListV2: (request: GroupMsgListRequest) => call(LIST_V2, { body: request }),
    getTask: (request: GroupMsgPageRequest) => call(TASK, { body: request }),
    getSendResult: (request: GroupMsgPageRequest & { userid: string }) => call(SEND_RESULT, { body: request }),
  };
}
