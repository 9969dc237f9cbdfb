import { z } from 'zod';
import { SimError } from '../errors.ts';
import type { SimMassDelivery, SimMassTask } from '../model.ts';
import type { SimState } from '../state.ts';
import { checkAttachmentMedia } from './attachments.ts';
import { checkLimit, page } from './paging.ts';
import { route, type Route } from './route.ts';

const AddBody = z.object({
  chat_type: z.enum(['single', 'group']).default('single'),
  external_userid: z.array(z.string()).max(10_000).default([]),
  chat_id_list: z.array(z.string()).default([]),
  sender: z.string().optional(),
  text: z.object({ content: z.string() }).optional(),
  attachments: z.array(z.unknown()).max(9).default([]),
});

const ListBody = z.object({
  chat_type: z.enum(['single', 'group']),
  start_time: z.number().int(),
  end_time: z.number().int(),
  creator: z.string().optional(),
  filter_type: z.number().int().default(2),
  limit: z.number().int().default(50),
  cursor: z.string().optional(),
});

const TaskBody = z.object({ msgid: z.string(), limit: z.number().int().default(500), cursor: z.string().optional() });

export const massSendRoutes: Record<string, Route> = {
  '/externalcontact/add_msg_template': route(({ body, state }) => {
    const request = AddBody.parse(body);
    if (!request.text && !request.attachments.length) throw new SimError(40058, 'text or attachments required');
    if (request.sender !== undefined) state.requireRep(request.sender);
    checkAttachmentMedia(state, request.attachments);
    const { deliveries, failed } =
      request.chat_type === 'single'
        ? singleDeliveries(state, request.external_userid, request.sender)
        : groupDeliveries(state, request.chat_id_list, request.sender);
    const task: SimMassTask = {
      msgid: state.newId('msg'),
      chatType: request.chat_type,
      ...(request.sender === undefined ? {} : { creator: request.sender }),
      createTime: state.nowSeconds(),
      createType: 0,
      ...(request.text === undefined ? {} : { text: request.text }),
      attachments: request.attachments,
      deliveries,
    };
    state.massTasks.set(task.msgid, task);
    return { msgid: task.msgid, fail_list: failed };
  }),

  '/externalcontact/get_groupmsg_list_v2': route(({ body, state }) => {
    const request = ListBody.parse(body);
    const limit = checkLimit(request.limit, 100);
    const tasks = [...state.massTasks.values()].filter(
      (t) =>
        t.chatType === request.chat_type &&
        t.createTime >= request.start_time &&
        t.createTime <= request.end_time &&
        (request.creator === undefined || t.creator === request.creator),
    );
    const { items, next_cursor } = page(tasks, request.cursor, limit);
    return {
      group_msg_list: items.map((t) => ({
        msgid: t.msgid,
        ...(t.creator === undefined ? {} : { creator: t.creator }),
        create_time: String(t.createTime),
        create_type: t.createType,
        ...(t.text === undefined ? {} : { text: t.text }),
        attachments: t.attachments,
      })),
      next_cursor,
    };
  }),

  '/externalcontact/get_groupmsg_task': route(({ body, state }) => {
    const request = TaskBody.parse(body);
    const task = state.requireMassTask(request.msgid);
    const senders = [...new Set(task.deliveries.map((d) => d.sender))].map((userid) => {
      const mine = task.deliveries.filter((d) => d.sender === userid);
      const sent = mine.find((d) => d.status !== 0);
      return { userid, status: sent ? 2 : 0, ...(sent?.sendTime === undefined ? {} : { send_time: sent.sendTime }) };
    });
    const { items, next_cursor } = page(senders, request.cursor, checkLimit(request.limit, 1000));
    return { task_list: items, next_cursor };
  }),

  '/externalcontact/get_groupmsg_send_result': route(({ body, state }) => {
    const request = TaskBody.extend({ userid: z.string() }).parse(body);
    const task = state.requireMassTask(request.msgid);
    const mine = task.deliveries.filter((d) => d.sender === request.userid);
    const { items, next_cursor } = page(mine, request.cursor, checkLimit(request.limit, 1000));
    return {
      send_list: items.map((d) => ({
        userid: d.sender,
        status: d.status,
        ...(d.externalUserid === undefined ? {} : { external_userid: d.externalUserid }),
        ...(d.chatId === undefined ? {} : { chat_id: d.chatId }),
        ...(d.sendTime === undefined ? {} : { send_time: d.sendTime }),
      })),
      next_cursor,
    };
  }),
};

/** Customers the sender (or, without one, any rep) is not related to end up in fail_list. */
function singleDeliveries(state: SimState, externalUserids: string[], sender: string | undefined) {
  const deliveries: SimMassDelivery[] = [];
  const failed: string[] = [];
  for (const externalUserid of externalUserids) {
    const follows = state.contacts.get(externalUserid)?.follows ?? [];
    const by = sender === undefined ? follows[0] : follows.find((f) => f.userid === sender);
    if (by) deliveries.push({ sender: by.userid, externalUserid, status: 0 });
    else failed.push(externalUserid);
  }
  return { deliveries, failed };
}

/** Without chat_id_list, WeCom targets every group the sender owns. */
function groupDeliveries(state: SimState, chatIds: string[], sender: string | undefined) {
  const targets = chatIds.length
    ? chatIds
    : [...state.groupChats.values()].filter((c) => c.owner === sender).map((c) => c.chatId);
  const deliveries: SimMassDelivery[] = [];
  const failed: string[] = [];
  for (const chatId of targets) {
    const chat = state.groupChats.get(chatId);
    if (chat && (sender === undefined || chat.owner === sender)) deliveries.push({ sender: chat.owner, chatId, status: 0 });
    else failed.push(chatId);
  }
  return { deliveries, failed };
}
