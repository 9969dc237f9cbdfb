import { z } from 'zod';
import { SimError } from '../errors.ts';
import type { GroupWelcomeAttachmentKind, SimGroupWelcomeTemplate } from '../model.ts';
import type { SimState } from '../state.ts';
import { checkAttachmentMedia } from './attachments.ts';
import { route, type Route } from './route.ts';

/** The 素材库 holds at most 100 group welcome templates. */
export const GROUP_WELCOME_TEMPLATE_LIMIT = 100;
const MAX_TEXT_BYTES = 4000;
/**
 * WeCom's exact codes for these two refusals are not pinned down in its public docs; the simulator
 * answers 41057 for an unknown template_id and 41058 for a full 素材库 (100 templates), and the
 * server treats every non-zero errcode of these APIs alike (a 502 for the operator).
 */
export const UNKNOWN_TEMPLATE_ERRCODE = 41057;
export const TEMPLATE_LIMIT_ERRCODE = 41058;

const ATTACHMENT_KINDS: readonly GroupWelcomeAttachmentKind[] = ['image', 'link', 'miniprogram', 'file', 'video'];

const Content = z.object({
  text: z.object({ content: z.string() }).optional(),
  image: z.record(z.string(), z.unknown()).optional(),
  link: z.record(z.string(), z.unknown()).optional(),
  miniprogram: z.record(z.string(), z.unknown()).optional(),
  file: z.record(z.string(), z.unknown()).optional(),
  video: z.record(z.string(), z.unknown()).optional(),
  agentid: z.number().int().optional(),
});
const AddBody = Content.extend({ notify: z.union([z.literal(0), z.literal(1)]).default(1) });
const EditBody = Content.extend({ template_id: z.string() });
const IdBody = z.object({ template_id: z.string(), agentid: z.number().int().optional() });

/** Text within 4000 bytes, at most one attachment with live media, something to send, the app's own agentid. */
function checkContent(state: SimState, body: z.infer<typeof Content>): Pick<SimGroupWelcomeTemplate, 'text' | 'attachment'> {
  if (body.agentid !== undefined && body.agentid !== state.corp.agentId) throw new SimError(40056);
  if (body.text && Buffer.byteLength(body.text.content, 'utf8') > MAX_TEXT_BYTES) throw new SimError(40058, `text.content exceeds ${MAX_TEXT_BYTES} bytes`);
  const kinds = ATTACHMENT_KINDS.filter((kind) => body[kind] !== undefined);
  if (kinds.length > 1) throw new SimError(40058, 'at most one attachment');
  const kind = kinds[0];
  const attachment = kind === undefined ? undefined : { msgtype: kind, [kind]: body[kind] };
  if (!body.text?.content && !attachment) throw new SimError(40058, 'text or an attachment required');
  if (attachment) checkAttachmentMedia(state, [attachment]);
  return { ...(body.text ? { text: body.text } : {}), ...(attachment ? { attachment } : {}) };
}

function requireTemplate(state: SimState, templateId: string): SimGroupWelcomeTemplate {
  const template = state.groupWelcomeTemplates.get(templateId);
  if (!template) throw new SimError(UNKNOWN_TEMPLATE_ERRCODE, 'invalid template_id');
  return template;
}

export const groupWelcomeRoutes: Record<string, Route> = {
  '/externalcontact/group_welcome_template/add': route(({ body, state }) => {
    const request = AddBody.parse(body);
    const content = checkContent(state, request);
    if (state.groupWelcomeTemplates.size >= GROUP_WELCOME_TEMPLATE_LIMIT) throw new SimError(TEMPLATE_LIMIT_ERRCODE, 'template count reached limit');
    const template: SimGroupWelcomeTemplate = { templateId: state.newId('msg'), ...content, notify: request.notify, createTime: state.nowSeconds() };
    state.groupWelcomeTemplates.set(template.templateId, template);
    return { template_id: template.templateId };
  }),

  '/externalcontact/group_welcome_template/edit': route(({ body, state }) => {
    const request = EditBody.parse(body);
    const template = requireTemplate(state, request.template_id);
    const { text, attachment } = checkContent(state, request);
    // Edit replaces the content as a whole, like WeCom's.
    state.groupWelcomeTemplates.set(template.templateId, {
      templateId: template.templateId,
      notify: template.notify,
      createTime: template.createTime,
      ...(text ? { text } : {}),
      ...(attachment ? { attachment } : {}),
    });
    return {};
  }),

  '/externalcontact/group_welcome_template/get': route(({ body, state }) => {
    const template = requireTemplate(state, IdBody.parse(body).template_id);
    const attachment = template.attachment;
    return {
      ...(template.text ? { text: template.text } : {}),
      ...(attachment ? { [attachment.msgtype]: attachment[attachment.msgtype] } : {}),
    };
  }),

  '/externalcontact/group_welcome_template/del': route(({ body, state }) => {
    const request = IdBody.parse(body);
    if (request.agentid !== undefined && request.agentid !== state.corp.agentId) throw new SimError(40056);
    requireTemplate(state, request.template_id);
    state.groupWelcomeTemplates.delete(request.template_id);
    return {};
  }),
};
