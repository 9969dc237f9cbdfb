import mongoose from 'mongoose';
import { z } from 'zod';
import type { Guard, HttpModule } from '../http/index.ts';
import { listTagsWithCounts } from './tag-list.ts';
import type { ContactModels } from './models.ts';
import { mountOperatorLists, type OperatorListDeps } from './operator-lists.ts';

const channelState = z.string().min(1).max(30, 'WeCom limits a channel state to 30 characters');
const channelBody = z.object({
  name: z.string().trim().min(1).max(100),
  tagIds: z.array(z.string().min(1)).max(100).default([]),
  cost: z.number().min(0).default(0),
});
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
        ctx.body = { channels: await Channel.find({}, { _id: 0, __v: 0 }).sort({ state: 1 }).lean() };
      });
      router.put('/api/admin/channels/:state', admin, async (ctx) => {
        const state = channelState.parse(ctx.params.state);
        const body = channelBody.parse(ctx.request.body);
        const known = await Tag.find({ tagId: mongoose.trusted({ $in: body.tagIds }) }, { tagId: 1 }).lean();
        const unknown = body.tagIds.filter((id) => !known.some((t) => t.tagId === id));
        if (unknown.length > 0) ctx.throw(400, `tagIds: unknown tag ids ${unknown.join(', ')} (run npm run sync if they are new in WeCom)`);
        const channel = await Channel.findOneAndUpdate({ state }, { $set: body }, { upsert: true, returnDocument: 'after', projection: { _id: 0, __v: 0 } }).lean();
        ctx.body = { channel };
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
        ctx.body = { channel };
      });
    },
  };
}
