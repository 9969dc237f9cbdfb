import { stringify } from 'yaml';
import { InvalidJourney, yamlProblem } from './journeys.ts';
import type { SopModels } from './models.ts';
import { checkYaml, sopJourneySchema, type SopJourney, type SopTemplate, type TemplateError } from './templates/index.ts';

export type LibraryTemplate = SopJourney & { id: string; source: 'builtin' | 'user'; createdAt?: Date };

/** What a template id may be (the schema's id rule), so a slug can be checked before it is stored. */
const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const isDuplicateKey = (err: unknown) => (err as { code?: number }).code === 11000;

/** `周推 Weekly!` → `weekly`; names in Chinese have no letters to keep, so they become `journey`. */
function slugOf(text: string): string {
  const slug = text.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|-+$/g, '').slice(0, 56);
  return ID.test(slug) ? slug : 'journey';
}

/**
 * The template library: the YAML files shipped with the server (read-only) and the journeys
 * operators saved (sop_user_templates), listed together and told apart by `source`.
 */
export class TemplateLibrary {
  constructor(
    private readonly models: SopModels,
    private readonly builtIn: () => { templates: SopTemplate[]; errors: TemplateError[] },
  ) {}

  /** Files of the built-in library that were refused, for the console to show. */
  builtInErrors(): { errors: TemplateError[] } {
    return { errors: this.builtIn().errors };
  }

  async list(): Promise<LibraryTemplate[]> {
    const saved = await this.models.UserTemplate.find().sort({ createdAt: 1 }).lean();
    return [
      ...this.builtIn().templates.map((t) => ({ ...t, source: 'builtin' as const })),
      ...saved.map((u) => ({ ...u.journey, id: u.templateId, source: 'user' as const, createdAt: u.createdAt })),
    ];
  }

  async find(id: string): Promise<LibraryTemplate | null> {
    const builtIn = this.builtIn().templates.find((t) => t.id === id);
    if (builtIn) return { ...builtIn, source: 'builtin' };
    const saved = await this.models.UserTemplate.findOne({ templateId: id }).lean();
    return saved ? { ...saved.journey, id: saved.templateId, source: 'user', createdAt: saved.createdAt } : null;
  }

  /** Stores a journey as the operator's template, under its own id when free, else a free slug of it. */
  async save(journey: SopJourney): Promise<LibraryTemplate> {
    const base = journey.id ?? slugOf(journey.name);
    const taken = new Set([...this.builtIn().templates.map((t) => t.id), ...(await this.models.UserTemplate.distinct('templateId'))]);
    for (let n = 1; ; n++) {
      const id = n === 1 ? base : `${base.slice(0, 60)}-${n}`;
      if (taken.has(id)) continue;
      try {
        const created = await this.models.UserTemplate.create({ templateId: id, journey: { ...journey, id } });
        return { ...created.toObject().journey, id, source: 'user', createdAt: created.createdAt };
      } catch (err) {
        // Saved by someone else in between: try the next free id.
        if (!isDuplicateKey(err)) throw err;
        taken.add(id);
      }
    }
  }

  async duplicate(id: string): Promise<LibraryTemplate | null> {
    const original = await this.find(id);
    if (!original) return null;
    const { source: _source, createdAt: _createdAt, ...journey } = original;
    return this.save({ ...journey, id: `${original.id.slice(0, 59)}-copy`, name: `${original.name.slice(0, 56)}（副本）` });
  }

  /** Only the operator's own templates can go: the built-in ones are files of the server. */
  async remove(id: string): Promise<'deleted' | 'builtin' | 'missing'> {
    if (this.builtIn().templates.some((t) => t.id === id)) return 'builtin';
    const { deletedCount } = await this.models.UserTemplate.deleteOne({ templateId: id });
    return deletedCount ? 'deleted' : 'missing';
  }
}

/** A journey as YAML, in the format of the files in sop-templates/. */
export function journeyYaml(journey: SopJourney): string {
  return stringify(journey, { lineWidth: 0 });
}

/** A journey from YAML (an export, or a template file); throws InvalidJourney with each problem's line. */
export function journeyFromYaml(text: string): SopJourney {
  const checked = checkYaml(text, 'import.yaml', sopJourneySchema);
  if (checked.template) return checked.template;
  throw new InvalidJourney(checked.errors.map((e) => yamlProblem(checked.data, e)));
}
