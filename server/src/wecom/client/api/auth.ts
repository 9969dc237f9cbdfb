import { z } from 'zod';
import { get, type Call } from '../endpoint.ts';

// Older answers spell it UserId; members get a userid, outsiders only an openid.
const UserInfo = z.object({
  userid: z.string().optional(),
  UserId: z.string().optional(),
  openid: z.string().optional(),
  OpenId: z.string().optional(),
  user_ticket: z.string().optional(),
});

export interface OAuthIdentity {
  /** Set when the person is a member of the corp (a rep). */
  userid: string | undefined;
  openid: string | undefined;
}

const GET_USER_INFO = get('/auth/getuserinfo', UserInfo);

export function authApi(call: Call) {
  return {
    /** Who signed in through the OAuth redirect; the code is single-use and lives 5 minutes. */
    getUserInfo: async (code: string): Promise<OAuthIdentity> => {
      const info = await call(GET_USER_INFO, { query: { code } });
      return { userid: info.userid ?? info.UserId, openid: info.openid ?? info.OpenId };
    },
  };
}
