import mongoose from 'mongoose';
import { z } from 'zod';
import type { AppContext, AppRouter, Guard } from '../http/index.ts';
import type { ContactModels } from './models.ts';

const WEEK_MS = 7 * 86_400_000;
const objectId = z.string().regex(/^[0-9a-f]{24}$/i, 'must be an id (24 hex characters)');
const page = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), cursor: objectId.optional() });
const winBackBody = z.object({ planId: objectId }).strict();

/** What the console needs of the SOP module, handed in by the composition root (contacts does not depend on sop). */
export interface OperatorListDeps {
  models: ContactModels;
  adminGuard: Guard;
  now: () => Date;
  /** The lifecycle stage and value of these contacts. */
  describe: (externalUserIds: string[]) => Promise<Map<string, { stage: string; orders: number; spentFen: number }>>;
  /** Enrols the contact in the plan once per key; false when it was enrolled for that key already. 400-worthy problems throw an HttpError. */
  winBack: (input: { planId: string; externalUserId: string; userId: string; key: string }) => Promise<boolean>;
  /** The enabled group plans that push to each of these groups. */
  plansPushingTo: (chatIds: string[]) => Promise<Map<string, Array<{ id: string; name: string }>>>;
}

/** Churn alerts with a win-back action, and the customer groups: the operator's two watch lists. */
export function mountOperatorLists(router: AppRouter, deps: OperatorListDeps): void {
  const { ChurnAlert, Contact, CustomerGroup, TimelineEvent } = deps.models;
  const admin = deps.adminGuard;

  // Newest first, paged by _id (ObjectIds grow with time), so a page is stable while alerts arrive.
  router.get('/api/admin/churn-alerts', admin, async (ctx) => {
    const query = page.parse(ctx.query);
    const alerts = await ChurnAlert.find(query.cursor ? { _id: mongoose.trusted({ $lt: new mongoose.Types.ObjectId(query.cursor) }) } : {})
      .sort({ _id: -1 })
      .limit(query.limit + 1)
      .lean();
    const shown = alerts.slice(0, query.limit);
    const ids = [...new Set(shown.map((a) => a.externalUserId))];
    const [people, facts] = await Promise.all([
      Contact.find({ externalUserId: mongoose.trusted({ $in: ids }) }, { _id: 0, externalUserId: 1, name: 1, avatar: 1 }).lean(),
      deps.describe(ids),
    ]);
    const person = new Map(people.map((p) => [p.externalUserId, p]));
    ctx.body = {
      items: shown.map((a) => ({
        id: String(a._id),
        externalUserId: a.externalUserId,
        name: person.get(a.externalUserId)?.name ?? '',
        avatar: person.get(a.externalUserId)?.avatar ?? '',
        userId: a.userId,
        at: a.at,
        stage: facts.get(a.externalUserId)?.stage ?? null,
        orders: facts.get(a.externalUserId)?.orders ?? 0,
        spentFen: facts.get(a.externalUserId)?.spentFen ?? 0,
        wonBack: a.wonBack?.planId ? { planId: String(a.wonBack.planId), at: a.wonBack.at } : null,
      })),
      nextCursor: alerts.length > query.limit ? String(shown[shown.length - 1]!._id) : null,
    };
  });

  router.post('/api/admin/churn-alerts/:id/win-back', admin, async (ctx: AppContext) => {
    const id = objectId.parse(ctx.params.id);
    const { planId } = winBackBody.parse(ctx.request.body);
    const alert = await ChurnAlert.findById(id).lean();
    if (!alert) return ctx.throw(404, `no churn alert ${id}`);
    const enrolled = await deps.winBack({ planId, externalUserId: alert.externalUserId, userId: alert.userId, key: `winback:${id}` });
    await ChurnAlert.updateOne({ _id: alert._id }, { $set: { status: 'acknowledged', wonBack: { planId, at: deps.now() } } });
    ctx.body = { enrolled };
  });

  router.get('/api/admin/groups', admin, async (ctx) => {
    const groups = await CustomerGroup.find({ status: 'active' }, { _id: 0, chatId: 1, name: 1, owner: 1, memberCount: 1, origin: 1 }).sort({ name: 1 }).lean();
    const chatIds = groups.map((g) => g.chatId);
    const since = new Date(deps.now().getTime() - WEEK_MS);
    const [moves, plans] = await Promise.all([
      TimelineEvent.aggregate<{ _id: { chatId: string; kind: string }; n: number }>([
        { $match: { kind: mongoose.trusted({ $in: ['joined_group', 'left_group'] }), at: mongoose.trusted({ $gte: since }), 'data.chatId': mongoose.trusted({ $in: chatIds }) } },
        { $group: { _id: { chatId: '$data.chatId', kind: '$kind' }, n: { $sum: 1 } } },
      ]),
      deps.plansPushingTo(chatIds),
    ]);
    const moved = (chatId: string, kind: string) => moves.find((m) => m._id.chatId === chatId && m._id.kind === kind)?.n ?? 0;
    ctx.body = {
      items: groups.map((g) => ({
        chatId: g.chatId,
        name: g.name,
        owner: g.owner,
        origin: g.origin,
        members: g.memberCount,
        joinedThisWeek: moved(g.chatId, 'joined_group'),
        leftThisWeek: moved(g.chatId, 'left_group'),
        plans: plans.get(g.chatId) ?? [],
      })),
    };
  });
}
