import { z } from 'zod';
import { SimError } from '../errors.ts';
import type { SimAppMessage } from '../model.ts';
import type { SimState } from '../state.ts';
import { route, type Route } from './route.ts';

/** WeCom cuts over-long fields at a byte length instead of refusing them (text 2048, title 128, description 512). */
function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  // Dropping a partial trailing character (U+FFFD after decoding) keeps the text valid UTF-8.
  return bytes.subarray(0, max).toString('utf8').replace(/\uFFFD+$/, '');
}

const Article = z.object({
  title: z.string().min(1).transform((t) => truncateBytes(t, 128)),
  description: z.string().transform((t) => truncateBytes(t, 512)).optional(),
  url: z.string().min(1),
  picurl: z.string().optional(),
});

const SendBody = z.object({
  touser: z.string().default(''),
  toparty: z.string().optional(),
  totag: z.string().optional(),
  msgtype: z.string(),
  agentid: z.number().int(),
  text: z.object({ content: z.string().min(1).transform((t) => truncateBytes(t, 2048)) }).optional(),
  image: z.object({ media_id: z.string() }).optional(),
  news: z.object({ articles: z.array(Article).min(1).max(8) }).optional(),
});

/** message/send for the message types the SCRM sends; parties and tags are not simulated (invalidparty). */
export const messageRoutes: Record<string, Route> = {
  '/message/send': route(({ body, state }) => {
    const request = SendBody.parse(body);
    if (request.agentid !== state.corp.agentId) throw new SimError(40056);
    const content = contentOf(request, state);
    const requested = request.touser === '@all' ? [...state.reps.keys()] : request.touser.split('|').filter(Boolean);
    const valid = requested.filter((userid) => state.reps.has(userid));
    const invalid = requested.filter((userid) => !state.reps.has(userid));
    if (!valid.length) throw new SimError(81013);
    const msgid = state.newId('am');
    for (const userid of valid) state.deliverAppMessage({ msgid, userid, agentid: request.agentid, ...content });
    return {
      ...(invalid.length ? { invaliduser: invalid.map((u) => u.toLowerCase()).join('|') } : {}),
      ...(request.toparty ? { invalidparty: request.toparty } : {}),
      ...(request.totag ? { invalidtag: request.totag } : {}),
      msgid,
    };
  }),
};

function contentOf(request: z.infer<typeof SendBody>, state: SimState): Pick<SimAppMessage, 'msgtype' | 'text' | 'image' | 'news'> {
  switch (request.msgtype) {
    case 'text':
      if (!request.text) throw new SimError(40058, 'text.content required');
      return { msgtype: 'text', text: request.text };
    case 'image':
      if (!request.image) throw new SimError(41006);
      state.requireMedia(request.image.media_id, 'image');
      return { msgtype: 'image', image: request.image };
    case 'news':
      if (!request.news) throw new SimError(40058, 'news.articles required');
      return { msgtype: 'news', news: request.news };
    default:
      throw new SimError(40008);
  }
}
