/** A problem in a template file, located so an operator can jump straight to it. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly file: string;
  /** 1-based; null when the problem is about the file as a whole. */
  readonly line: number | null;
  readonly column: number | null;
  /** The field, e.g. `steps[2].content.text`; '' for the whole document. */
  readonly path: string;

  constructor(fields: { file: string; line: number | null; column: number | null; path: string; message: string }) {
    super(fields.message);
    this.file = fields.file;
    this.line = fields.line;
    this.column = fields.column;
    this.path = fields.path;
  }

  /** `sop-templates/renewal.yaml:14:7 steps[2].after.days: must be at most 365` */
  override toString(): string {
    const where = this.line === null ? this.file : `${this.file}:${this.line}:${this.column ?? 1}`;
    return this.path ? `${where} ${this.path}: ${this.message}` : `${where}: ${this.message}`;
  }
}

export type FieldPath = readonly PropertyKey[];

/** ['steps', 2, 'content', 'text'] → `steps[2].content.text` */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
