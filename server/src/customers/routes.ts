import type { HydratedDocument } from 'mongoose';
import mongoose from 'mongoose';
import { z } from 'zod';
import type { ContactPool } from '../contacts/index.ts';
import type { AppContext, Guard, HttpModule } from '../http/index.ts';
import { setStageOverride, type SidebarModels } from '../sidebar-api/index.ts';
import { STAGES } from '../sop/index.ts';
import { csvStream } from './csv.ts';
import { customerPage, timelineQuery, type PageDeps } from './customer-page.ts';
import { UnknownSegment, type Customers, type FilterOrSegment } from './customers.ts';
import { customerFilterSchema, filterFromQuery } from './filter.ts';
import { BadCursor, decodeCursor, pageRows, pagingSchema, parseSort } from './list.ts';
import type { Segment } from './models.ts';

export interface CustomerRoutesDeps extends PageDeps {
  customers: Customers;
  adminGuard: Guard;
  sidebar: SidebarModels;
  pool: Pick<ContactPool, 'addTimeline'>;
}

const EXPORT_PAGE = 500;
const PREVIEW_SIZE = 20;
const stageBody = z.object({ stage: z.enum(STAGES).nullable() }).strict();
const segmentBody = z.object({ name: z.string().trim().min(1).max(100), filter: customerFilterSchema.default({}) }).strict();
const countBody = z.object({ filter: customerFilterSchema.default({}) }).strict();
const externalUserIdParam = z.string().min(1).max(100);

/** The list query: filter, sort, limit and the position the cursor names (a bad cursor is a 400 naming it). */
function listQuery(ctx: AppContext) {
  const paging = pagingSchema.parse(ctx.query);
  const filter = filterFromQuery(ctx.query);
  const sort = parseSort(paging.sort);
  try {
    return { filter, sort, limit: paging.limit, position: paging.cursor ? decodeCursor(paging.cursor, sort) : null };
  } catch (err) {
    if (err instanceof BadCursor) return ctx.throw(400, `cursor: ${err.message}`);
    throw err;
  }
}

const segmentView = (segment: HydratedDocument<Segment> | (Segment & { _id: unknown; createdAt: Date; updatedAt: Date }), count: number) => ({
  id: String(segment._id),
  name: segment.name,
  filter: segment.filter as unknown,
  count,
  createdAt: segment.createdAt,
  updatedAt: segment.updatedAt,
});

/** The operator's customer list, export, customer page, stage override and segments. */
export function customersAdminModule(deps: CustomerRoutesDeps): HttpModule {
  const { customers } = deps;
  const { Segment } = deps.models;
  const answering = async <T>(ctx: AppContext, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof UnknownSegment) return ctx.throw(404, err.message);
      throw err;
    }
  };
  const segmentOr404 = async (ctx: AppContext) => {
    const id = String(ctx.params.id);
    const segment = mongoose.isValidObjectId(id) ? await Segment.findById(id) : null;
    if (!segment) return ctx.throw(404, `no segment ${id}`);
    return segment;
  };
  const countOf = (source: FilterOrSegment) => customers.count(source);

  return {
    name: 'customers-admin',
    mount(router) {
      const admin = deps.adminGuard;

      router.get('/api/admin/contacts', admin, async (ctx) => {
        const { filter, sort, limit, position } = listQuery(ctx);
        ctx.body = await customers.page(filter, sort, position, limit);
      });

      router.get('/api/admin/contacts/export.csv', admin, async (ctx) => {
        const { filter, sort } = listQuery(ctx);
        const clauses = await customers.clauses(filter);
        const total = await deps.models.CustomerIndex.countDocuments(clauses.length ? { $and: clauses } : {});
        async function* pages() {
          let position = null;
          for (;;) {
            const { page, nextCursor } = await pageRows(deps.models, clauses, sort, position, EXPORT_PAGE);
            yield await customers.items(page);
            if (!nextCursor) return;
            position = decodeCursor(nextCursor, sort);
          }
        }
        ctx.set('X-Total-Count', String(total));
        ctx.set('Content-Disposition', `attachment; filename="customers.csv"`);
        ctx.type = 'text/csv; charset=utf-8';
        ctx.body = csvStream(pages());
      });

      router.get('/api/admin/contacts/:externalUserId', admin, async (ctx) => {
        const externalUserId = externalUserIdParam.parse(ctx.params.externalUserId);
        const page = await customerPage(deps, externalUserId, timelineQuery.parse(ctx.query));
        if (!page) return ctx.throw(404, `no contact ${externalUserId}`);
        ctx.body = page;
      });

      router.put('/api/admin/contacts/:externalUserId/stage', admin, async (ctx) => {
        const externalUserId = externalUserIdParam.parse(ctx.params.externalUserId);
        const { stage } = stageBody.parse(ctx.request.body);
        if (!(await deps.contacts.Contact.exists({ externalUserId }))) return ctx.throw(404, `no contact ${externalUserId}`);
        await setStageOverride({ sidebar: deps.sidebar, pool: deps.pool }, { externalUserId, stage, userId: ctx.state.adminId ?? 'admin', at: deps.now() });
        await deps.indexer.fresh();
        const row = await deps.models.CustomerIndex.findOne({ externalUserId }, { _id: 0, stage: 1, stageComputed: 1, stageOverride: 1 }).lean();
        ctx.body = { computed: row?.stageComputed ?? null, override: row?.stageOverride ?? null, effective: row?.stage ?? null };
      });

      router.post('/api/admin/segments/count', admin, async (ctx) => {
        const { filter } = countBody.parse(ctx.request.body);
        ctx.body = { count: await countOf(filter) };
      });

      router.post('/api/admin/segments', admin, async (ctx) => {
        const body = segmentBody.parse(ctx.request.body);
        const segment = await Segment.create(body);
        ctx.status = 201;
        ctx.body = { segment: segmentView(segment, await countOf(body.filter)) };
      });

      router.get('/api/admin/segments', admin, async (ctx) => {
        const segments = await Segment.find({}).sort({ createdAt: -1 }).lean();
        const counts = await Promise.all(segments.map((s) => countOf(customerFilterSchema.parse(s.filter))));
        ctx.body = { segments: segments.map((s, i) => segmentView(s, counts[i]!)) };
      });

      router.get('/api/admin/segments/:id', admin, async (ctx) => {
        const segment = await segmentOr404(ctx);
        ctx.body = { segment: segmentView(segment, await answering(ctx, () => countOf({ segmentId: String(segment._id) }))) };
      });

      router.put('/api/admin/segments/:id', admin, async (ctx) => {
        const segment = await segmentOr404(ctx);
        const body = segmentBody.partial().strict().parse(ctx.request.body);
        if (body.name !== undefined) segment.name = body.name;
        if (body.filter !== undefined) segment.filter = body.filter;
        segment.markModified('filter');
        await segment.save();
        ctx.body = { segment: segmentView(segment, await countOf(customerFilterSchema.parse(segment.filter))) };
      });

      router.delete('/api/admin/segments/:id', admin, async (ctx) => {
        const segment = await segmentOr404(ctx);
        await segment.deleteOne();
        ctx.status = 204;
      });

      router.get('/api/admin/segments/:id/preview', admin, async (ctx) => {
        const segment = await segmentOr404(ctx);
        const source = { segmentId: String(segment._id) };
        const [count, { items }] = await answering(ctx, () => Promise.all([countOf(source), customers.page(source, parseSort('addedAt:desc'), null, PREVIEW_SIZE)]));
        ctx.body = { count, items };
      });
    },
  };
}
