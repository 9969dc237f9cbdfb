import { post, type Call } from '../endpoint.ts';
import { Empty, type Attachment, type TextContent } from './common.ts';

export interface WelcomeRequest {
  /** From the add_external_contact event; valid for 20 s and once. */
  welcome_code: string;
  text?: TextContent;
  /** At most 9. */
  attachments?: Attachment[];
}

// Not idempotent: a lost answer may hide a delivered welcome, and the code is single-use anyway.
const SEND = post('/externalcontact/send_welcome_msg', Empty, { idempotent: false });

export function welcomeApi(call: Call) {
  return {
    send: async (request: WelcomeRequest): Promise<void> => {
      await call(SEND, { body: request });
    },
  };
}
