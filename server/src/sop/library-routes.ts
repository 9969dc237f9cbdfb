import { z } from 'zod';
import type { AppRouter, Guard } from '../http/index.ts';
import { objectId, type PlanLookup } from './plan-view.ts';
import { parseJourney } from './journeys.ts';
import { journeyFromYaml, journeyYaml, type TemplateLibrary } from './library.ts';

const templateId = z.string().min(1).max(64);
const saveTemplate = z.union([
  z.object({ journey: z.unknown().refine((j) => j !== undefined, 'is required') }).strict(),
  z.object({ planId: objectId, name: z.string().trim().min(1).max(60).optional() }).strict(),
]);
const importTemplate = z.object({ yaml: z.string().min(1).max(200_000) }).strict();

export interface LibraryRouteDeps {
  admin: Guard;
  library: TemplateLibrary;
  planOr404: PlanLookup;
}

/** The template library: built-in files and the operators' own, saved from plans, duplicated, exported and imported. */
export function mountLibraryRoutes(router: AppRouter, { admin, library, planOr404 }: LibraryRouteDeps): void {
  router.get('/api/admin/sop/templates', admin, async (ctx) => {
    const { errors } = library.builtInErrors();
    ctx.body = { templates: await library.list(), errors: errors.map((e) => ({ ...e, text: e.toString() })) };
  });

  router.post('/api/admin/sop/templates', admin, async (ctx) => {
    const body = saveTemplate.parse(ctx.request.body);
    let journey;
    if ('planId' in body) {
      const plan = await planOr404(ctx, body.planId);
      journey = { ...plan.template, ...(body.name ? { name: body.name } : {}) };
    } else journey = parseJourney(body.journey);
    ctx.status = 201;
    ctx.body = { template: await library.save(journey) };
  });

  router.post('/api/admin/sop/templates/import', admin, async (ctx) => {
    const { yaml } = importTemplate.parse(ctx.request.body);
    ctx.status = 201;
    ctx.body = { template: await library.save(journeyFromYaml(yaml)) };
  });

  router.post('/api/admin/sop/templates/:id/duplicate', admin, async (ctx) => {
    const id = templateId.parse(ctx.params.id);
    const template = await library.duplicate(id);
    if (!template) return ctx.throw(404, `no template "${id}"`);
    ctx.status = 201;
    ctx.body = { template };
  });

  router.delete('/api/admin/sop/templates/:id', admin, async (ctx) => {
    const id = templateId.parse(ctx.params.id);
    const result = await library.remove(id);
    if (result === 'builtin') return ctx.throw(400, `template "${id}" is built in (a file on the server): duplicate it to change it`, { code: 'builtin_template' });
    if (result === 'missing') return ctx.throw(404, `no template "${id}"`);
    ctx.body = { deleted: id };
  });

  router.get('/api/admin/sop/templates/:id/export', admin, async (ctx) => {
    const id = templateId.parse(ctx.params.id);
    const template = await library.find(id);
    if (!template) return ctx.throw(404, `no template "${id}"`);
    const { source: _source, createdAt: _createdAt, ...journey } = template;
    ctx.attachment(`${id}.yaml`);
    ctx.type = 'text/yaml';
    ctx.body = journeyYaml(journey);
  });
}
