import mongoose from 'mongoose';
import { z } from 'zod';
import type { ContactModels } from '../contacts/index.ts';
import type { Guard, HttpModule } from '../http/index.ts';
import { isJobId, type BulkTagging } from './bulk-tagging.ts';
import type { TagLibrary } from './library.ts';
import { answeringTagFailure } from './wecom-answers.ts';

/** WeCom's limits: names of at most 30 characters, orders as unsigned 32-bit integers. */
const tagName = z.string().trim().min(1).max(30, 'WeCom limits a tag name to 30 characters');
const order = z.number().int().min(0).max(2 ** 32 - 1);
const id = z.string().min(1).max(64);

const createBody = z
  .object({ groupId: id.optional(), groupName: tagName.optional(), name: tagName, order: order.optional() })
  .strict()
  .refine((b) => (b.groupId === undefined) !== (b.groupName === undefined), { message: 'give either groupId (an existing group) or groupName', path: ['groupId'] });
const editBody = z
  .object({ name: tagName.optional(), order: order.optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.order !== undefined, { message: 'give name or order', path: ['name'] });

const tagIds = z.array(id).max(100).default([]);
const bulkBody = z
  .object({
    segmentId: id.optional(),
    filter: z.record(z.string(), z.unknown()).optional(),
    add: tagIds,
    remove: tagIds,
  })
  .strict()
  .refine((b) => (b.segmentId === undefined) !== (b.filter === undefined), { message: 'give either segmentId or filter', path: ['segmentId'] })
  .refine((b) => b.add.length + b.remove.length > 0, { message: 'give at least one tag id to add or remove', path: ['add'] })
  .refine((b) => !b.add.some((t) => b.remove.includes(t)), { message: 'a tag cannot be both added and removed', path: ['remove'] });

export interface TagLibraryRoutesDeps {
  library: TagLibrary;
  bulk: BulkTagging;
  contacts: Pick<ContactModels, 'Tag'>;
  adminGuard: Guard;
  now: () => Date;
}

const customerTagsBody = z
  .object({ userId: id, add: tagIds, remove: tagIds })
  .strict()
  .refine((b) => b.add.length + b.remove.length > 0, { message: 'give at least one tag id to add or remove', path: ['add'] });

/** The tag library's writes (GET /api/admin/tags, with counts, stays with the contacts module) and bulk tagging. */
export function tagLibraryModule(deps: TagLibraryRoutesDeps): HttpModule {
  const { library, bulk } = deps;
  return {
    name: 'tag-library',
    mount(router) {
      const admin = deps.adminGuard;
      router.post('/api/admin/tags', admin, async (ctx) => {
        const body = createBody.parse(ctx.request.body);
        await answeringTagFailure(ctx, 'name', async () => {
          ctx.body = { tag: await library.create(body) };
          ctx.status = 201;
        });
      });
      router.patch('/api/admin/tags/:tagId', admin, async (ctx) => {
        const tagId = id.parse(ctx.params.tagId);
        const body = editBody.parse(ctx.request.body);
        await answeringTagFailure(ctx, body.name === undefined ? 'tagId' : 'name', async () => {
          ctx.body = { tag: await library.editTag(tagId, body) };
        });
      });
      router.delete('/api/admin/tags/:tagId', admin, async (ctx) => {
        const tagId = id.parse(ctx.params.tagId);
        await answeringTagFailure(ctx, 'tagId', async () => {
          await library.deleteTag(tagId);
          ctx.status = 204;
        });
      });
      router.patch('/api/admin/tag-groups/:groupId', admin, async (ctx) => {
        const groupId = id.parse(ctx.params.groupId);
        const body = editBody.parse(ctx.request.body);
        await answeringTagFailure(ctx, body.name === undefined ? 'groupId' : 'name', async () => {
          ctx.body = { group: await library.editGroup(groupId, body) };
        });
      });
      router.delete('/api/admin/tag-groups/:groupId', admin, async (ctx) => {
        const groupId = id.parse(ctx.params.groupId);
        await answeringTagFailure(ctx, 'groupId', async () => {
          await library.deleteGroup(groupId);
          ctx.status = 204;
        });
      });

      router.post('/api/admin/bulk-tags', admin, async (ctx) => {
        const body = bulkBody.parse(ctx.request.body);
        const wanted = [...body.add, ...body.remove];
        const known = new Set(await deps.contacts.Tag.distinct('tagId', { tagId: mongoose.trusted({ $in: wanted }) }));
        for (const field of ['add', 'remove'] as const) {
          const unknown = body[field].filter((t) => !known.has(t));
          if (unknown.length > 0) ctx.throw(400, `${field}: unknown tag ids ${unknown.join(', ')} (run npm run sync if they are new in WeCom)`);
        }
        const target = body.segmentId !== undefined ? { segmentId: body.segmentId } : { filter: body.filter! };
        ctx.body = { job: await bulk.create({ target, add: body.add, remove: body.remove }) };
        ctx.status = 202;
      });
      // One customer's tags on one rep's relation, from the customer page (WeCom tags live on relations).
      router.put('/api/admin/contacts/:externalUserId/tags', admin, async (ctx) => {
        const externalUserId = id.parse(ctx.params.externalUserId);
        const body = customerTagsBody.parse(ctx.request.body);
        await answeringTagFailure(ctx, 'add', async () => {
          ctx.body = { tagIds: await library.tagCustomer({ externalUserId, ...body, at: deps.now() }) };
        });
      });
      router.get('/api/admin/bulk-tags/:id', admin, async (ctx) => {
        const jobId = z.string().refine(isJobId, 'not a bulk tag job id').parse(ctx.params.id);
        const job = await bulk.view(jobId);
        if (!job) return ctx.throw(404, `id: no bulk tag job ${jobId}`);
        ctx.body = { job };
      });
    },
  };
}
