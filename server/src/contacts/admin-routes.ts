import mongoose from 'mongoose';
import { z } from 'zod';
import type { Guard, HttpModule } from '../http/index.ts';
import { listTagsWithCounts } from './tag-list.ts';
import type { ContactModels } from './models.ts';
import { mountOperatorLists, type OperatorListDeps } from './operator-lists.ts';

const channelState = z.string().min(1).max(30, 'WeCom limits a channel state to 30 characters');
const MAX_COSTS = 500;

/** A calendar date YYYY-MM-DD, kept as UTC midnight of that date (see the channel schema). */
const costDay = (what: string) =>
  z
    .string({ error: `${what}须为日期 YYYY-MM-DD` })
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${what}须为日期 YYYY-MM-DD`)
    .transform((text, ctx) => {
      const date = new Date(`${text}T00:00:00.000Z`);
      if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text) {
        ctx.addIssue({ code: 'custom', message: `${what}不是有效的日期：${text}` });
        return z.NEVER;
      }
      return date;
    });

/** One dated cost: `amount` yuan over [from, to), `to` exclusive (November: from 2025-11-01 to 2025-12-01). */
const costEntry = z
  .strictObject(
    {
      from: costDay('开始日期'),
      to: costDay('结束日期'),
      amount: z.number({ error: '金额须为数字（元）' }).min(0, '金额不能为负数'),
      note: z.string({ error: '备注须为文字' }).trim().max(200, '备注最多 200 字').default(''),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? '只接受 from、to、amount、note' : '须为 {from, to, amount, note}') },
  )
  .refine((entry) => entry.from < entry.to, {
    path: ['to'],
    message: '结束日期须晚于开始日期（结束日期当天不计入）',
    // Only once both dates parsed: a bad date is reported as itself, not as an order problem too.
    when: (payload) => payload.issues.length === 0,
  });

/** A channel's dated costs; each problem is named by its entry (第 N 条成本) and field, e.g. `costs.1.to`. */
const channelCosts = z
  .array(z.unknown(), { error: '成本须为列表 [{from, to, amount, note}]' })
  .max(MAX_COSTS, `成本最多 ${MAX_COSTS} 条`)
  .transform((entries, ctx) => {
    const parsed: Array<z.output<typeof costEntry>> = [];
    entries.forEach((entry, i) => {
      const result = costEntry.safeParse(entry);
      if (result.success) parsed.push(result.data);
      else for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: [i, ...issue.path], message: `第 ${i + 1} 条成本：${issue.message}` });
    });
    return parsed;
  });

const channelBody = z.object({
  name: z.string().trim().min(1).max(100),
  tagIds: z.array(z.string().min(1)).max(100).default([]),
  /** Undated cost, counted whole in every period while the channel has no dated `costs`. */
  cost: z.number().min(0).default(0),
  /** Replaces the dated costs when given; absent, they are kept (callers from before dated costs). */
  costs: channelCosts.optional(),
});
const costsBody = z.object({ costs: channelCosts }).strict();

/** A stored channel as the API answers it: dated costs' days as YYYY-MM-DD, as they are sent. */
function channelOut<T extends { costs?: Array<{ from: Date; to: Date; amount: number; note?: string | null }> }>(channel: T | null) {
  if (!channel) return channel;
  const day = (date: Date) => date.toISOString().slice(0, 10);
  return { ...channel, costs: (channel.costs ?? []).map((c) => ({ from: day(c.from), to: day(c.to), amount: c.amount, note: c.note ?? '' })) };
}
const contactWayBody = z.object({ userIds: z.array(z.string().min(1).max(64)).min(1).max(100), skipVerify: z.boolean().default(true) }).strict();

/** WeCom add_contact_way (联系我), as the composition root hands it in: contacts does not depend on the WeCom client. */
export type CreateContactWay = (request: { type: 1 | 2; scene: 2; state: string; user: string[]; skip_verify: boolean }) => Promise<{ config_id: string; qr_code?: string | undefined }>;

/** Channels (联系我 `state`s) and their auto-tags, the corp tags, for operators (the customer list is in customers/). */
export function contactsAdminModule(deps: {
  models: ContactModels;
  adminGuard: Guard;
  createContactWay?: CreateContactWay;
  /** The churn-alert and customer-group lists; absent where the SOP and order modules are not wired (tests of channels alone). */
  lists?: Omit<OperatorListDeps, 'models' | 'adminGuard'>;
}): HttpModule {
  const { Channel, Tag } = deps.models;
  return {
    name: 'contacts-admin',
    mount(router) {
      const admin = deps.adminGuard;
      if (deps.lists) mountOperatorLists(router, { ...deps.lists, models: deps.models, adminGuard: admin });
      // The corp tags, for pickers (channel auto-tags, SOP audiences) and the tag library (with customer counts).
      router.get('/api/admin/tags', admin, async (ctx) => {
        ctx.body = { tags: await listTagsWithCounts(deps.models) };
      });
      router.get('/api/admin/channels', admin, async (ctx) => {
        ctx.body = { channels: (await Channel.find({}, { _id: 0, __v: 0 }).sort({ state: 1 }).lean()).map(channelOut) };
      });
      router.put('/api/admin/channels/:state', admin, async (ctx) => {
        const state = channelState.parse(ctx.params.state);
        const body = channelBody.parse(ctx.request.body);
        const known = await Tag.find({ tagId: mongoose.trusted({ $in: body.tagIds }) }, { tagId: 1 }).lean();
        const unknown = body.tagIds.filter((id) => !known.some((t) => t.tagId === id));
        if (unknown.length > 0) ctx.throw(400, `tagIds: unknown tag ids ${unknown.join(', ')} (run npm run sync if they are new in WeCom)`);
        const { costs, ...fields } = body;
        const channel = await Channel.findOneAndUpdate({ state }, { $set: costs === undefined ? fields : { ...fields, costs } }, { upsert: true, returnDocument: 'after', projection: { _id: 0, __v: 0 } }).lean();
        ctx.body = { channel: channelOut(channel) };
      });
      // Only the dated costs (a month's or a campaign's spend), replacing the list; the rest stays.
      router.put('/api/admin/channels/:state/costs', admin, async (ctx) => {
        const state = channelState.parse(ctx.params.state);
        const { costs } = costsBody.parse(ctx.request.body);
        const channel = await Channel.findOneAndUpdate({ state }, { $set: { costs } }, { returnDocument: 'after', projection: { _id: 0, __v: 0 } }).lean();
        if (!channel) return ctx.throw(404, `没有渠道 ${state}（请先 PUT /api/admin/channels/${state}）`);
        ctx.body = { channel: channelOut(channel) };
      });
      // A QR code for the channel: contacts scanning it arrive with its state (and get its auto-tags).
      router.post('/api/admin/channels/:state/contact-way', admin, async (ctx) => {
        const state = channelState.parse(ctx.params.state);
        const body = contactWayBody.parse(ctx.request.body);
        if (!deps.createContactWay) return ctx.throw(404, 'channel QR codes need the WeCom client');
        if (!(await Channel.exists({ state }))) return ctx.throw(404, `no channel ${state} (PUT /api/admin/channels/${state} first)`);
        const way = await deps.createContactWay({ type: body.userIds.length > 1 ? 2 : 1, scene: 2, state, user: body.userIds, skip_verify: body.skipVerify });
        const channel = await Channel.findOneAndUpdate(
          { state },
          { $set: { configId: way.config_id, qrCode: way.qr_code ?? null } },
          { returnDocument: 'after', projection: { _id: 0, __v: 0 } },
        ).lean();
        ctx.body = { channel: channelOut(channel) };
      });
    },
  };
}
