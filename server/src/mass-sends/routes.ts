import type { Guard, HttpModule } from '../http/index.ts';
import { localDay, quietUntil } from '../sop/index.ts';
import { workFieldsFor } from '../queue/index.ts';
import { splitAudience, type AudienceDeps } from './audience.ts';
import type { MassSendModels } from './models.ts';
import { createBody, listQuery, objectId, previewBody, type PreviewBody } from './schema.ts';
import { massSendView, massSendViews } from './view.ts';

export interface RoutesDeps extends AudienceDeps {
  models: MassSendModels;
  adminGuard: Guard;
  timeZone: string;
  /** Default quiet hours (22:00–08:00); a mass send may bring its own. */
  quietHours: { start: string; end: string };
  now: () => Date;
  /** A new mass send may be due at once. */
  kick: () => void;
}

/** When a send asked for `sendAt` (or now) really goes: at the end of quiet hours if it falls inside them. */
function schedule(deps: RoutesDeps, body: PreviewBody) {
  const now = deps.now();
  const asked = body.sendAt ? new Date(body.sendAt) : null;
  const at = asked && asked > now ? asked : now;
  const quietHours = body.quietHours ?? deps.quietHours;
  const quietEnd = quietUntil(at, quietHours, deps.timeZone);
  return { sendAt: asked, goesAt: quietEnd ?? at, deferred: quietEnd !== null, quietHours };
}

/** The operator API of one-off 群发: preview, create (now or at a time), list, read, cancel. */
export function massSendsModule(deps: RoutesDeps): HttpModule {
  const { MassSend } = deps.models;
  return {
    name: 'mass-sends',
    mount(router) {
      const admin = deps.adminGuard;

      router.post('/api/admin/mass-sends/preview', admin, async (ctx) => {
        const body = previewBody.parse(ctx.request.body);
        const when = schedule(deps, body);
        const split = await splitAudience(deps, body.audience, localDay(when.goesAt, deps.timeZone));
        const perRep = [...split.perRep].map(([userId, targets]) => ({ userId, customers: targets.length })).sort((a, b) => b.customers - a.customers || a.userId.localeCompare(b.userId));
        ctx.body = {
          total: perRep.reduce((n, r) => n + r.customers, 0),
          chatType: split.chatType,
          perRep,
          skipped: { ...split.skipped, ...(when.deferred ? { quietHours: { deferredTo: when.goesAt } } : {}) },
          goesAt: when.goesAt,
        };
      });

      router.post('/api/admin/mass-sends', admin, async (ctx) => {
        const body = createBody.parse(ctx.request.body);
        const when = schedule(deps, body);
        const created = await MassSend.create({
          name: body.name,
          state: 'scheduled',
          sendAt: when.sendAt,
          goesAt: when.goesAt,
          content: body.content,
          audience: body.audience,
          quietHours: when.quietHours,
          timeZone: deps.timeZone,
          ...workFieldsFor(when.goesAt),
        });
        deps.kick();
        ctx.status = 201;
        ctx.body = { massSend: await massSendView(deps.models, created.toObject()) };
      });

      router.get('/api/admin/mass-sends', admin, async (ctx) => {
        const { limit } = listQuery.parse(ctx.query);
        const massSends = await MassSend.find().sort({ createdAt: -1 }).limit(limit).lean();
        ctx.body = { massSends: await massSendViews(deps.models, massSends) };
      });

      router.get('/api/admin/mass-sends/:id', admin, async (ctx) => {
        const id = objectId.parse(ctx.params.id);
        const massSend = await MassSend.findById(id).lean();
        if (!massSend) return ctx.throw(404, `id: no mass send ${id}`);
        ctx.body = { massSend: await massSendView(deps.models, massSend) };
      });

      router.post('/api/admin/mass-sends/:id/cancel', admin, async (ctx) => {
        const id = objectId.parse(ctx.params.id);
        // Only while it waits and no worker holds it: once split, parts may already be with WeCom.
        const cancelled = await MassSend.findOneAndUpdate(
          { _id: id, state: 'scheduled', status: 'pending' },
          { $set: { state: 'cancelled', cancelledAt: deps.now(), status: 'done', runAt: null, finishedAt: deps.now() } },
          { returnDocument: 'after' },
        ).lean();
        if (!cancelled) {
          const existing = await MassSend.findById(id, { state: 1 }).lean();
          if (!existing) return ctx.throw(404, `id: no mass send ${id}`);
          return ctx.throw(409, `status: the mass send is ${existing.state === 'scheduled' ? 'being sent' : existing.state}; only a scheduled one can be cancelled`);
        }
        ctx.body = { massSend: await massSendView(deps.models, cancelled) };
      });
    },
  };
}
