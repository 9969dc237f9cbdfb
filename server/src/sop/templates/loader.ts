import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { TemplateError, formatPath } from './errors.ts';
import type { FieldPath } from './errors.ts';
import { problemsFromIssues, templateErrorMap } from './issues.ts';
import type { Problem } from './issues.ts';
import { sopTemplateSchema } from './rules.ts';
import type { SopTemplate } from './schema.ts';

type Position = { line: number; column: number };

/**
 * Where a field is written: the key of the last path segment present in the document (so
 * `steps[2].after.days` points at `days:`), a list item's first character, or — for a missing
 * key — the mapping that should have held it.
 */
function positionOf(doc: Document, lineCounter: LineCounter, path: FieldPath): Position | null {
  let node: unknown = doc.contents;
  let offset = (node as Node | null)?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === segment);
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      node = node.items[segment];
      offset = (node as Node).range?.[0] ?? offset;
    } else break;
  }
  if (offset === undefined) return null;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

interface Checked<T> {
  template: T | null;
  errors: TemplateError[];
  /** The document as data (null when it is not even YAML): lets a caller name the step a problem is in. */
  data: unknown;
  /** Locates further problems found by checks across files. */
  errorAt(problem: Problem): TemplateError;
}

function byPosition(a: TemplateError, b: TemplateError): number {
  return (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0);
}

/**
 * Every problem in one YAML text against `schema` (a template file, or a journey whose id may be
 * absent), each located at its line; `template` is null unless there are none.
 */
export function checkYaml<T>(text: string, file: string, schema: z.ZodType<T>): Checked<T> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const errorAt = ({ path, message }: Problem) => {
    const at = positionOf(doc, lineCounter, path);
    return new TemplateError({ file, line: at?.line ?? null, column: at?.column ?? null, path: formatPath(path), message });
  };
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      // prettyErrors appends " at line L, column C:" and a code frame; the position has its own fields.
      const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      const at = e.linePos?.[0];
      return new TemplateError({ file, line: at?.line ?? null, column: at?.col ?? null, path: '', message: `YAML syntax: ${message}` });
    });
    return { template: null, errors, data: null, errorAt };
  }
  const data: unknown = doc.toJS();
  const result = schema.safeParse(data, { error: templateErrorMap });
  if (result.success) return { template: result.data, errors: [], data, errorAt };
  return { template: null, errors: problemsFromIssues(result.error.issues).map(errorAt).sort(byPosition), data, errorAt };
}

const check = (text: string, file: string) => checkYaml(text, file, sopTemplateSchema);

/** One template text; throws the first problem. */
export function parseTemplate(text: string, file: string): SopTemplate {
  const { template, errors } = check(text, file);
  if (!template) throw errors[0] ?? new TemplateError({ file, line: null, column: null, path: '', message: 'invalid template' });
  return template;
}

/**
 * Every `*.yaml` / `*.yml` template in `dir`. A file with any problem is left out and its problems
 * reported; the rest load. The file name must be the template id, and ids are unique across the
 * directory (the first file, in name order, keeps an id).
 */
export async function loadTemplates(dir: string): Promise<{ templates: SopTemplate[]; errors: TemplateError[] }> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const templates: SopTemplate[] = [];
  const errors: TemplateError[] = [];
  const fileOf = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    const checked = check(await readFile(file, 'utf8'), file);
    errors.push(...checked.errors);
    const { template } = checked;
    if (!template) continue;
    const stem = basename(name, extname(name));
    const firstFile = fileOf.get(template.id);
    if (template.id !== stem) {
      errors.push(checked.errorAt({ path: ['id'], message: `must be the file name: "${template.id}" is in ${name}, so rename one to match` }));
    } else if (firstFile !== undefined) {
      errors.push(checked.errorAt({ path: ['id'], message: `template id "${template.id}" is already used by ${firstFile}` }));
    } else {
      fileOf.set(template.id, file);
      templates.push(template);
    }
  }
  return { templates, errors };
}
