import { z } from 'zod';
import { get, post, type Call } from '../endpoint.ts';
import { paginate } from '../pagination.ts';
import { Empty, NextCursor } from './common.ts';

export const ExternalProfile = z.object({
  external_userid: z.string(),
  name: z.string(),
  /** 1 = personal WeChat user, 2 = WeCom user of another corp. */
  type: z.number().int(),
  avatar: z.string().optional(),
  gender: z.number().int().optional(),
  unionid: z.string().optional(),
  position: z.string().optional(),
  corp_name: z.string().optional(),
  corp_full_name: z.string().optional(),
});
export type ExternalProfile = z.infer<typeof ExternalProfile>;

export const FollowUserTag = z.object({
  group_name: z.string().optional(),
  tag_name: z.string().optional(),
  /** 1 = corp tag (has tag_id), 2 = the rep's personal tag, 3 = rule-group tag. */
  type: z.number().int(),
  tag_id: z.string().optional(),
});

const followFields = {
  userid: z.string(),
  remark: z.string().optional(),
  description: z.string().optional(),
  createtime: z.number().int(),
  remark_corp_name: z.string().optional(),
  remark_mobiles: z.array(z.string()).optional(),
  oper_userid: z.string().optional(),
  add_way: z.number().int().optional(),
  /** The `state` of the channel QR the customer scanned. */
  state: z.string().optional(),
};

export const FollowUser = z.object({ ...followFields, tags: z.array(FollowUserTag).default([]) });
export type FollowUser = z.infer<typeof FollowUser>;

/** batch/get_by_user reports corp tags as bare ids. */
export const FollowInfo = z.object({ ...followFields, tag_id: z.array(z.string()).default([]) });
export type FollowInfo = z.infer<typeof FollowInfo>;

const ListResponse = z.object({ external_userid: z.array(z.string()).default([]) });

const GetResponse = z.object({
  external_contact: ExternalProfile,
  follow_user: z.array(FollowUser).default([]),
  next_cursor: NextCursor,
});
export type ExternalContactDetail = z.infer<typeof GetResponse>;

const BatchResponse = z.object({
  external_contact_list: z.array(z.object({ external_contact: ExternalProfile, follow_info: FollowInfo })).default([]),
  next_cursor: NextCursor,
});
export type ExternalContactBatchPage = z.infer<typeof BatchResponse>;
export type ExternalContactWithFollow = ExternalContactBatchPage['external_contact_list'][number];

export interface BatchGetByUserRequest {
  /** At most 100 reps. */
  userid_list: string[];
  cursor?: string;
  /** At most 100. */
  limit?: number;
}

export interface RemarkRequest {
  userid: string;
  external_userid: string;
  remark?: string;
  description?: string;
  remark_company?: string;
  remark_mobiles?: string[];
  remark_pic_mediaid?: string;
}

const LIST = get('/externalcontact/list', ListResponse);
const GET = get('/externalcontact/get', GetResponse);
const BATCH = post('/externalcontact/batch/get_by_user', BatchResponse, { idempotent: true });
// Setting a remark to the same value twice changes nothing.
const REMARK = post('/externalcontact/remark', Empty, { idempotent: true });

export function externalContactApi(call: Call) {
  const batchGetByUser = (request: BatchGetByUserRequest) =>
    call(BATCH, { body: { cursor: '', limit: 100, ...request } });
  return {
    /** external_userids of one rep's customers. */
    list: async (userid: string) => (await call(LIST, { query: { userid } })).external_userid,
    /** One customer with every rep following them; `cursor` pages follow_user past 500 reps. */
    get: (external_userid: string, cursor?: string) => call(GET, { query: { external_userid, cursor } }),
    batchGetByUser,
    /** Every customer of the given reps, one (customer, rep) pair at a time, across all pages. */
    async *iterateByUser(request: Omit<BatchGetByUserRequest, 'cursor'>): AsyncGenerator<ExternalContactWithFollow> {
      for await (const page of paginate((cursor) => batchGetByUser({ ...request, cursor }))) {
        yield* page.external_contact_list;
      }
    },
    remark: async (request: RemarkRequest): Promise<void> => {
      await call(REMARK, { body: request });
    },
  };
}
