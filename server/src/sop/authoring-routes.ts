import { z } from 'zod';
import type { ContactModels } from '../contacts/index.ts';
import type { AppContext, Guard, HttpModule } from '../http/index.ts';
import { MediaSourceError } from '../media/index.ts';
import { WecomApiError, WecomError, type AppMessageBody, type WecomClient } from '../wecom/index.ts';
import { toAppMessages, type MediaIds } from './attachments.ts';
import type { RenderTarget, StepRunner } from './steps.ts';
import { contentSchema, type SopContent } from './templates/index.ts';

const userId = z.string().min(1).max(64);
const externalUserId = z.string().min(1).max(128);

const previewBody = z
  .object({
    content: contentSchema,
    target: z.enum(['contact', 'group']).optional(),
    externalUserId: externalUserId.optional(),
    chatId: z.string().min(1).max(128).optional(),
    userId: userId.optional(),
  })
  .strict();

const testSendBody = z.object({ content: contentSchema, userId: userId.optional(), externalUserId: externalUserId.optional() }).strict();

/** WeCom's answers that mean "this userid cannot receive app messages": the operator's input, so a 400. */
const RECIPIENT_ERRCODES = new Set([60111, 81013, 82001]);

export interface SopAuthoringDeps {
  runner: StepRunner;
  contacts: ContactModels;
  client: Pick<WecomClient, 'message'>;
  /** Uploads test-send images; null = test sends are not possible (preview still is). */
  media: MediaIds | null;
  /** The app (agentid) test sends come from; its visible range must include the operator. Null = not configured. */
  agentId: number | null;
  /** Demo mode: the reps one may sign in as; the first receives test sends by default. */
  demoReps: string[] | null;
  adminGuard: Guard;
  timeZone: string;
  now: () => Date;
}

/**
 * What the journey editor needs while an operator writes content: the text as a chosen customer
 * (or group) would get it, rendered by the engine's own renderer, and a test send of it to the
 * operator's own WeCom account as app messages.
 */
export function sopAuthoringModule(deps: SopAuthoringDeps): HttpModule {
  const render = async (target: RenderTarget['enrollment'], content: SopContent) =>
    deps.runner.render({ plan: { timeZone: deps.timeZone }, enrollment: target, now: deps.now() }, content);

  /** The customer as the engine would enrol them: with the rep who follows them (the given one, else the first). */
  const contactTarget = async (ctx: AppContext, id: string | undefined, rep: string | undefined): Promise<RenderTarget['enrollment']> => {
    if (id === undefined) return { targetKind: 'contact', targetId: '', userId: rep ?? null };
    const contact = await deps.contacts.Contact.exists({ externalUserId: id });
    if (!contact) return ctx.throw(404, `externalUserId: no contact ${id}`);
    const relation = await deps.contacts.FollowRelation.findOne({ externalUserId: id, ...(rep ? { userId: rep } : {}) })
      .sort({ createdAt: 1 })
      .lean();
    return { targetKind: 'contact', targetId: id, userId: rep ?? relation?.userId ?? null };
  };

  const groupTarget = async (ctx: AppContext, chatId: string | undefined, rep: string | undefined): Promise<RenderTarget['enrollment']> => {
    if (chatId === undefined) return ctx.throw(400, 'chatId: required when target is group');
    const group = await deps.contacts.CustomerGroup.findOne({ chatId }).lean();
    if (!group) return ctx.throw(404, `chatId: no group ${chatId}`);
    return { targetKind: 'group', targetId: chatId, userId: rep ?? (group.owner || null) };
  };

  /** The operator's own userid when they signed in with WeCom (or as a demo rep); else the first demo rep. */
  const recipient = (ctx: AppContext, given: string | undefined): string => {
    if (given) return given;
    const admin = ctx.state.adminId;
    if (admin && admin !== 'token') return admin;
    const demo = deps.demoReps?.[0];
    if (demo) return demo;
    return ctx.throw(400, 'userId: required — signed in with the admin token, there is no WeCom account to send the test to');
  };

  return {
    name: 'sop-authoring',
    mount(router) {
      router.post('/api/admin/sop/preview', deps.adminGuard, async (ctx) => {
        const body = previewBody.parse(ctx.request.body);
        const kind = body.target ?? (body.chatId !== undefined ? 'group' : 'contact');
        const target = kind === 'group' ? await groupTarget(ctx, body.chatId, body.userId) : await contactTarget(ctx, body.externalUserId, body.userId);
        const { text, missing } = await render(target, body.content);
        ctx.body = { text, missing };
      });

      router.post('/api/admin/sop/test-send', deps.adminGuard, async (ctx) => {
        const body = testSendBody.parse(ctx.request.body);
        const { media, agentId } = deps;
        if (!media || agentId === null) {
          ctx.status = 503;
          ctx.body = { error: 'not_configured', message: 'test send: this server has no WeCom app (agentid) or media upload configured' };
          return;
        }
        const sentTo = recipient(ctx, body.userId);
        const target = await contactTarget(ctx, body.externalUserId, undefined);
        const { text } = await render(target, body.content);
        try {
          const attachments = await toAppMessages(body.content.attachments, media);
          const messages: AppMessageBody[] = [{ msgtype: 'text', text: { content: text } }, ...attachments.items];
          const msgids: string[] = [];
          // One at a time, so they arrive in the order the customer would see them.
          for (const message of messages) {
            const sent = await deps.client.message.send({ ...message, touser: [sentTo], agentid: agentId });
            if (sent.invalidUsers.includes(sentTo.toLowerCase())) {
              return ctx.throw(400, `userId: WeCom did not deliver to ${sentTo} (unknown, or outside the app's visible range)`);
            }
            msgids.push(sent.msgid);
          }
          ctx.body = { sentTo, msgids, text, skipped: attachments.skipped };
        } catch (err) {
          answerFailure(ctx, err, sentTo);
        }
      });
    },
  };
}

function answerFailure(ctx: AppContext, err: unknown, sentTo: string): void {
  if (err instanceof MediaSourceError) ctx.throw(400, `attachments: ${err.message}`);
  if (err instanceof WecomApiError && RECIPIENT_ERRCODES.has(err.errcode)) {
    ctx.throw(400, `userId: WeCom cannot send app messages to ${sentTo}: ${err.hint ?? err.errmsg}`);
  }
  if (err instanceof WecomError) {
    // WeCom's fault, not the request's: 502 with the (token-free) reason, so the console can show it.
    ctx.status = 502;
    ctx.body = { error: 'wecom_error', message: err.message, retryable: err.retryable };
    return;
  }
  throw err;
}
