import mongoose from 'mongoose';
import { z } from 'zod';
import type { ContactModels } from '../contacts/index.ts';
import type { AppContext, Guard, HttpModule } from '../http/index.ts';
import { WecomApiError, WecomError, type WecomClient } from '../wecom/index.ts';
import type { GroupWelcome, GroupWelcomeModels } from './models.ts';

/** WeCom's limit on a template's text. */
export const MAX_WELCOME_BYTES = 4000;
/** The placeholder WeCom replaces with the new member's nickname. */
export const NICKNAME_PLACEHOLDER = '%NICKNAME%';
/**
 * What WeCom answers for a template_id it does not know (deleted in the WeCom admin console);
 * the code the simulator uses too (see wecom-simulator/routes/group-welcome.ts).
 */
const UNKNOWN_TEMPLATE = 41057;

const chatIdParam = z.string().min(1, '群 ID（chatId）不能为空').max(128, '群 ID（chatId）过长');
const welcomeBody = z.strictObject(
  {
    text: z
      .string({ error: '入群欢迎语（text）须为文字' })
      .refine((t) => t.trim().length > 0, '入群欢迎语（text）不能为空')
      .refine((t) => Buffer.byteLength(t, 'utf8') <= MAX_WELCOME_BYTES, `入群欢迎语（text）最多 ${MAX_WELCOME_BYTES} 字节（UTF-8，一个汉字约 3 字节）`),
    notify: z.boolean({ error: '通知群主（notify）须为 true 或 false' }).default(true),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? '只接受 text、notify' : '须为 {text, notify}') },
);

export interface GroupWelcomeDeps {
  models: GroupWelcomeModels;
  /** The customer groups, from the contacts module. */
  contacts: Pick<ContactModels, 'CustomerGroup'>;
  client: Pick<WecomClient, 'groupWelcome'>;
  adminGuard: Guard;
  now?: () => Date;
}

/** A stored welcome as the API answers it. */
function welcomeOut(welcome: GroupWelcome) {
  return { text: welcome.text, templateId: welcome.templateId, notify: welcome.notify, updatedAt: welcome.updatedAt, lastError: welcome.lastError ?? null };
}

/** WeCom refused (or could not be reached): 502 with the token-free reason, in Chinese for the console. */
function answerWecomFailure(ctx: AppContext, err: unknown, doing: string): void {
  if (!(err instanceof WecomError)) throw err;
  ctx.status = 502;
  ctx.body = { error: 'wecom_error', message: `企业微信未能${doing}：${describe(err)}`, retryable: err.retryable };
}

const describe = (err: WecomError) => (err instanceof WecomApiError ? `errcode ${err.errcode}（${err.hint ?? err.errmsg}）` : err.message);
const isUnknownTemplate = (err: unknown) => err instanceof WecomApiError && err.errcode === UNKNOWN_TEMPLATE;
const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

/**
 * 入群欢迎语 of WeCom customer groups, kept as WeCom group welcome templates: one template per group
 * that has a welcome, created on its first save and edited afterwards. The owner then picks it in
 * the group's settings (notify asks WeCom to tell owners a new template is there).
 */
export function groupWelcomeModule(deps: GroupWelcomeDeps): HttpModule {
  const { GroupWelcome } = deps.models;
  const { CustomerGroup } = deps.contacts;
  const { groupWelcome: wecom } = deps.client;
  const now = deps.now ?? (() => new Date());
  const noteFailure = (chatId: string, err: WecomError) => GroupWelcome.updateOne({ chatId }, { $set: { lastError: describe(err) } });

  return {
    name: 'group-welcome',
    mount(router) {
      const admin = deps.adminGuard;

      // Each active WeCom customer group with its welcome (null: none set here). Bot rooms are welcomed by the bot.
      router.get('/api/admin/group-welcomes', admin, async (ctx) => {
        const groups = await CustomerGroup.find({ status: 'active', origin: 'wecom' }, { _id: 0, chatId: 1, name: 1, owner: 1, memberCount: 1 }).sort({ name: 1 }).lean();
        const welcomes = await GroupWelcome.find({ chatId: mongoose.trusted({ $in: groups.map((g) => g.chatId) }) }).lean();
        const byChat = new Map(welcomes.map((w) => [w.chatId, w]));
        ctx.body = {
          items: groups.map((g) => {
            const welcome = byChat.get(g.chatId);
            return { chatId: g.chatId, name: g.name, owner: g.owner, members: g.memberCount, welcome: welcome ? welcomeOut(welcome) : null };
          }),
        };
      });

      router.put('/api/admin/group-welcomes/:chatId', admin, async (ctx) => {
        const chatId = chatIdParam.parse(ctx.params.chatId);
        const body = welcomeBody.parse(ctx.request.body);
        const group = await CustomerGroup.findOne({ chatId, status: 'active' }, { origin: 1 }).lean();
        if (!group) return ctx.throw(404, `没有客户群 ${chatId}（已解散，或尚未从企业微信同步）`);
        if (group.origin !== 'wecom') return ctx.throw(400, `chatId：${chatId} 是机器人所在的微信群，入群欢迎语由机器人发送，不能使用企业微信入群欢迎语`);
        const text = { content: body.text };
        const existing = await GroupWelcome.findOne({ chatId }).lean();
        /** WeCom refused: the reason is kept on a stored welcome, and the operator gets it as a 502. */
        const refused = async (err: unknown, doing: string) => {
          if (existing && err instanceof WecomError) await noteFailure(chatId, err);
          answerWecomFailure(ctx, err, doing);
        };

        let templateId = existing?.templateId;
        if (templateId !== undefined) {
          try {
            await wecom.edit({ template_id: templateId, text });
          } catch (err) {
            // Deleted in the WeCom admin console: created again below, under a new template_id.
            if (!isUnknownTemplate(err)) return refused(err, '修改入群欢迎语');
            templateId = undefined;
          }
        }
        const creating = templateId === undefined;
        if (templateId === undefined) {
          try {
            templateId = await wecom.add({ text, notify: body.notify ? 1 : 0 });
          } catch (err) {
            return refused(err, existing ? '重新创建入群欢迎语' : '创建入群欢迎语');
          }
        }

        if (existing) {
          // notify is recorded for the template it was asked for: a re-created one, not an edit.
          const fields = { text: body.text, templateId, updatedAt: now(), lastError: null, ...(creating ? { notify: body.notify } : {}) };
          const saved = await GroupWelcome.findOneAndUpdate({ chatId }, { $set: fields }, { returnDocument: 'after' }).lean();
          ctx.body = { welcome: welcomeOut(saved!) };
          return;
        }
        // First save: nothing is stored unless WeCom took the template.
        try {
          const created = await GroupWelcome.create({ chatId, text: body.text, templateId, notify: body.notify, updatedAt: now(), lastError: null });
          ctx.status = 201;
          ctx.body = { welcome: welcomeOut(created.toObject()) };
        } catch (err) {
          // Not kept here, so not kept in WeCom either (a concurrent first save won, or the store failed).
          await wecom.del(templateId).catch(() => undefined);
          if (isDuplicateKey(err)) return ctx.throw(409, `客户群 ${chatId} 的入群欢迎语正在被同时保存，请刷新后重试`);
          throw err;
        }
      });

      router.delete('/api/admin/group-welcomes/:chatId', admin, async (ctx) => {
        const chatId = chatIdParam.parse(ctx.params.chatId);
        const existing = await GroupWelcome.findOne({ chatId }).lean();
        if (!existing) return ctx.throw(404, `客户群 ${chatId} 没有设置入群欢迎语`);
        try {
          await wecom.del(existing.templateId);
        } catch (err) {
          // Already gone in WeCom (deleted in its admin console): only our record is left to remove.
          if (!isUnknownTemplate(err)) {
            if (err instanceof WecomError) await noteFailure(chatId, err);
            return answerWecomFailure(ctx, err, '删除入群欢迎语');
          }
        }
        await GroupWelcome.deleteOne({ chatId, templateId: existing.templateId });
        ctx.status = 204;
      });
    },
  };
}
