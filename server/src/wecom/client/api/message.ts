import { z } from 'zod';
import { post, type Call } from '../endpoint.ts';

/** A link card of a news message (at most 8 per message). */
export interface NewsArticle {
  title: string;
  description?: string;
  url: string;
  picurl?: string;
}

export type AppMessageBody =
  | { msgtype: 'text'; text: { content: string } }
  | { msgtype: 'image'; image: { media_id: string } }
  | { msgtype: 'news'; news: { articles: NewsArticle[] } };

/** An app message from the agent to members of the corp (not to customers). */
export type AppMessage = AppMessageBody & {
  /** Internal userids; at most 1,000. */
  touser: string[];
  agentid: number;
};

const SendResponse = z.object({
  /** '|'-separated; WeCom lowercases them. */
  invaliduser: z.string().optional(),
  invalidparty: z.string().optional(),
  invalidtag: z.string().optional(),
  unlicenseduser: z.string().optional(),
  msgid: z.string(),
});

export interface AppMessageResult {
  msgid: string;
  /** Recipients WeCom did not deliver to (unknown, outside the app's visibility, no license). */
  invalidUsers: string[];
}

// Not idempotent: a lost answer may hide a delivered message, and a repeat would arrive twice.
const SEND = post('/message/send', SendResponse, { idempotent: false });

const split = (list: string | undefined) => (list ? list.split('|').filter(Boolean) : []);

export function messageApi(call: Call) {
  return {
    send: async ({ touser, ...message }: AppMessage): Promise<AppMessageResult> => {
      const answer = await call(SEND, { body: { ...message, touser: touser.join('|') } });
      return { msgid: answer.msgid, invalidUsers: [...split(answer.invaliduser), ...split(answer.unlicenseduser)] };
    },
  };
}
