import { z } from 'zod';
import { get, type Call } from '../endpoint.ts';

const FollowUserList = z.object({ follow_user: z.array(z.string()).default([]) });

const Member = z.object({
  userid: z.string(),
  name: z.string().optional(),
  department: z.array(z.number()).optional(),
  position: z.string().optional(),
  avatar: z.string().optional(),
  status: z.number().int().optional(),
});
export type Member = z.infer<typeof Member>;

const FOLLOW_USERS = get('/externalcontact/get_follow_user_list', FollowUserList);
const GET = get('/user/get', Member);

export function userApi(call: Call) {
  return {
    /** userids of the reps who have the 客户联系 permission. */
    list: async () => (await call(FOLLOW_USERS)).follow_user,
    get: (userid: string) => call(GET, { query: { userid } }),
  };
}
