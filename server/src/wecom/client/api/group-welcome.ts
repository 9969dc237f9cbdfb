import { z } from 'zod';
import { post, type Call } from '../endpoint.ts';
import { Empty, type TextContent } from './common.ts';

/**
 * One 入群欢迎语 template in the corp's 素材库 (at most 100). `%NICKNAME%` in the text is replaced
 * by WeCom with the new member's nickname. At most one attachment. The API cannot bind a template
 * to a group: the group owner picks it in the group's settings in the WeCom app.
 */
export interface GroupWelcomeTemplate {
  /** Up to 4000 bytes. */
  text?: TextContent;
  image?: { media_id?: string; pic_url?: string };
  link?: { title: string; url: string; picurl?: string; desc?: string };
  miniprogram?: { title: string; pic_media_id: string; appid: string; page: string };
  file?: { media_id: string };
  video?: { media_id: string };
}

export interface AddGroupWelcomeRequest extends GroupWelcomeTemplate {
  /** For a self-built app other than the one holding the secret. */
  agentid?: number;
  /** 1 = WeCom tells group owners that a new template is available (WeCom's default). */
  notify?: 0 | 1;
}

export interface EditGroupWelcomeRequest extends GroupWelcomeTemplate {
  template_id: string;
  agentid?: number;
}

const AddResponse = z.object({ template_id: z.string().min(1) });

const GetResponse = z.object({
  text: z.object({ content: z.string() }).optional(),
  image: z.object({ media_id: z.string().optional(), pic_url: z.string().optional() }).optional(),
  link: z.object({ title: z.string(), url: z.string(), picurl: z.string().optional(), desc: z.string().optional() }).optional(),
  miniprogram: z.object({ title: z.string(), pic_media_id: z.string(), appid: z.string(), page: z.string() }).optional(),
  file: z.object({ media_id: z.string() }).optional(),
  video: z.object({ media_id: z.string() }).optional(),
});
export type GroupWelcomeTemplateDetail = z.infer<typeof GetResponse>;

// A lost answer to add may hide a created template: not repeated. Edit and del are the same change twice.
const ADD = post('/externalcontact/group_welcome_template/add', AddResponse, { idempotent: false });
const EDIT = post('/externalcontact/group_welcome_template/edit', Empty, { idempotent: true });
const GET = post('/externalcontact/group_welcome_template/get', GetResponse, { idempotent: true });
const DEL = post('/externalcontact/group_welcome_template/del', Empty, { idempotent: true });

export function groupWelcomeApi(call: Call) {
  return {
    /** Creates the template; answers its template_id. */
    add: async (request: AddGroupWelcomeRequest): Promise<string> => (await call(ADD, { body: request })).template_id,
    /** Replaces the template's content; groups that use it get the new text from then on. */
    edit: async (request: EditGroupWelcomeRequest): Promise<void> => {
      await call(EDIT, { body: request });
    },
    get: (template_id: string): Promise<GroupWelcomeTemplateDetail> => call(GET, { body: { template_id } }),
    del: async (template_id: string, agentid?: number): Promise<void> => {
      await call(DEL, { body: { template_id, ...(agentid === undefined ? {} : { agentid }) } });
    },
  };
}
