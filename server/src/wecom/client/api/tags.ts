import { z } from 'zod';
import { post, type Call } from '../endpoint.ts';
import { Empty, UnixSeconds } from './common.ts';

export const CorpTag = z.object({
  id: z.string(),
  name: z.string(),
  create_time: UnixSeconds.optional(),
  order: z.number().int().optional(),
  deleted: z.boolean().optional(),
});
export type CorpTag = z.infer<typeof CorpTag>;

export const CorpTagGroup = z.object({
  group_id: z.string(),
  group_name: z.string(),
  create_time: UnixSeconds.optional(),
  order: z.number().int().optional(),
  deleted: z.boolean().optional(),
  tag: z.array(CorpTag).default([]),
});
export type CorpTagGroup = z.infer<typeof CorpTagGroup>;

export interface ListTagsRequest {
  tag_id?: string[];
  group_id?: string[];
}

/** Either add tags to an existing group (group_id) or create a group (group_name) with them. */
export interface AddTagsRequest {
  group_id?: string;
  group_name?: string;
  order?: number;
  tag: Array<{ name: string; order?: number }>;
  agentid?: number;
}

/** `id` is a tag id or a group id. */
export interface EditTagRequest {
  id: string;
  name?: string;
  order?: number;
  agentid?: number;
}

export interface DeleteTagsRequest {
  tag_id?: string[];
  group_id?: string[];
  agentid?: number;
}

export interface MarkTagRequest {
  userid: string;
  external_userid: string;
  add_tag?: string[];
  remove_tag?: string[];
}

const LIST = post('/externalcontact/get_corp_tag_list', z.object({ tag_group: z.array(CorpTagGroup).default([]) }), {
  idempotent: true,
});
const ADD = post('/externalcontact/add_corp_tag', z.object({ tag_group: CorpTagGroup }), { idempotent: false });
const EDIT = post('/externalcontact/edit_corp_tag', Empty, { idempotent: true });
const DELETE = post('/externalcontact/del_corp_tag', Empty, { idempotent: false });
// Adding a tag a customer already has, or removing one they lack, is a no-op for WeCom.
const MARK = post('/externalcontact/mark_tag', Empty, { idempotent: true });

export function tagsApi(call: Call) {
  return {
    list: async (request: ListTagsRequest = {}) => (await call(LIST, { body: request })).tag_group,
    /** The group as WeCom stored it, with the new tags' ids. */
    add: async (request: AddTagsRequest) => (await call(ADD, { body: request })).tag_group,
    edit: async (request: EditTagRequest): Promise<void> => {
      await call(EDIT, { body: request });
    },
    /** WeCom only lets an app delete the tags it created. */
    del: async (request: DeleteTagsRequest): Promise<void> => {
      await call(DELETE, { body: request });
    },
    mark: async (request: MarkTagRequest): Promise<void> => {
      await call(MARK, { body: { add_tag: [], remove_tag: [], ...request } });
    },
  };
}
