import { formatPath, problemsFromIssues, sopJourneySchema, templateErrorMap, type Problem, type SopJourney, type TemplateError } from './templates/index.ts';

/** One thing wrong with a journey, as the console shows it: on the step it belongs to. */
export interface JourneyProblem {
  /** `steps[0].then`, relative to the journey; '' for the journey as a whole. */
  path: string;
  /** The id of steps[i] when the path starts there (null when the step has no usable id, or none is concerned). */
  stepId: string | null;
  message: string;
  /** Only for YAML text: where in it, 1-based. */
  line?: number | null;
  column?: number | null;
}

/** A 400 `invalid_journey` answer listing every problem (the error middleware adds `extra` to the body). */
export class InvalidJourney extends Error {
  readonly status = 400;
  readonly expose = true;
  readonly code = 'invalid_journey';
  readonly extra: { problems: JourneyProblem[] };

  constructor(problems: JourneyProblem[]) {
    super(problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ') || 'invalid journey');
    this.extra = { problems };
  }
}

/** The id written on the step a formatted path points into, read from the raw input. */
function stepIdAt(input: unknown, path: string): string | null {
  const index = /^steps\[(\d+)\]/.exec(path)?.[1];
  if (index === undefined) return null;
  const steps = (input as { steps?: unknown } | null)?.steps;
  const id = Array.isArray(steps) ? (steps[Number(index)] as { id?: unknown } | null)?.id : undefined;
  return typeof id === 'string' ? id : null;
}

export function journeyProblem(input: unknown, { path, message }: Problem): JourneyProblem {
  const formatted = formatPath(path);
  return { path: formatted, stepId: stepIdAt(input, formatted), message };
}

/** Problems found in YAML text keep their line and column. */
export function yamlProblem(data: unknown, error: TemplateError): JourneyProblem {
  return { path: error.path, stepId: stepIdAt(data, error.path), message: error.message, line: error.line, column: error.column };
}

/** The template schema with its cross-step rules, for a journey sent as JSON; throws InvalidJourney. */
export function parseJourney(input: unknown): SopJourney {
  const result = sopJourneySchema.safeParse(input, { error: templateErrorMap });
  if (result.success) return result.data;
  throw new InvalidJourney(problemsFromIssues(result.error.issues).map((p) => journeyProblem(input, p)));
}
