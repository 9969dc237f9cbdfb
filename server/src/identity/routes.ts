import { z } from 'zod';
import type { AppContext, Guard, HttpModule } from '../http/index.ts';
import { IdentityError } from './merge.ts';
import type { Identity } from './service.ts';

const page = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
};
const reviewsQuery = z.object({ status: z.enum(['open', 'merged', 'kept_apart'], { error: 'must be open, merged or kept_apart' }).default('open'), ...page });
const mergesQuery = z.object(page);
const id = z.string().min(1).max(64);
const mergeBody = z.object({ survivor: z.string().min(1).max(128) }).strict();
const bulkBody = z.object({ ids: z.array(id).min(1).max(200), action: z.enum(['merge', 'keep_apart'], { error: 'must be merge or keep_apart' }) }).strict();

/** The identity review page's API: probable pairs to decide, and the merges made (with their undo). */
export function identityModule(deps: { identity: Identity; adminGuard: Guard }): HttpModule {
  const { identity } = deps;
  return {
    name: 'identity',
    mount(router) {
      const admin = deps.adminGuard;
      router.get('/api/admin/identity/reviews', admin, async (ctx) => {
        ctx.body = await identity.listReviews(reviewsQuery.parse(ctx.query));
      });
      router.post('/api/admin/identity/reviews/bulk', admin, async (ctx) => {
        const body = bulkBody.parse(ctx.request.body);
        ctx.body = await identity.bulk([...new Set(body.ids)], body.action);
      });
      router.post('/api/admin/identity/reviews/:id/merge', admin, async (ctx) => {
        const body = mergeBody.parse(ctx.request.body ?? {});
        const merge = await answer(ctx, () => identity.mergeReview(id.parse(ctx.params.id), body.survivor));
        ctx.body = { merge };
      });
      router.post('/api/admin/identity/reviews/:id/keep-apart', admin, async (ctx) => {
        await answer(ctx, () => identity.keepApart(id.parse(ctx.params.id)));
        ctx.body = { ok: true };
      });
      router.get('/api/admin/identity/merges', admin, async (ctx) => {
        ctx.body = await identity.listMerges(mergesQuery.parse(ctx.query));
      });
      router.post('/api/admin/identity/merges/:id/undo', admin, async (ctx) => {
        await answer(ctx, () => identity.undo(id.parse(ctx.params.id)));
        ctx.body = { ok: true };
      });
    },
  };
}

/** Runs a decision, answering an IdentityError with its status and message (the app's error body). */
async function answer<T>(ctx: AppContext, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof IdentityError) return ctx.throw(err.status, `identity: ${err.message}`, { code: err.code });
    throw err;
  }
}
