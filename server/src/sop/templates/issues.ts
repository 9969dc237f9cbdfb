import type { z } from 'zod';
import type { FieldPath } from './errors.ts';

/** One thing wrong with a template, before it is located in the YAML text. */
export interface Problem {
  path: FieldPath;
  message: string;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value lines)',
};

function describe(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `text "${value.length > 20 ? `${value.slice(0, 20)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}

function sizeLimit(origin: string, bound: string, limit: number | bigint): string {
  if (origin === 'string') return Number(limit) === 1 && bound === 'at least' ? 'must not be empty' : `must be ${bound} ${limit} characters`;
  if (origin === 'array') return `must have ${bound} ${limit} item${Number(limit) === 1 ? '' : 's'}`;
  return `must be ${bound} ${limit}`;
}

/** The keys each alternative of a union of objects takes: [['replied'], ['hasTag'], …]. */
function unionKeys(inst: unknown): string[] {
  const options = (inst as z.core.$ZodUnion | undefined)?._zod.def.options ?? [];
  return options.flatMap((option) => {
    const shape = (option as Partial<z.core.$ZodObject>)._zod?.def.shape;
    return shape ? Object.keys(shape) : [];
  });
}

/**
 * Operator-facing wording for zod's issues. Passed per parse, so messages written into the schema
 * (e.g. "WeCom accepts at most 9 attachments") still win.
 */
export const templateErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describe(issue.input)}`;
    case 'too_big':
      return sizeLimit(issue.origin, issue.inclusive === false ? 'less than' : 'at most', issue.maximum);
    case 'too_small':
      return sizeLimit(issue.origin, issue.inclusive === false ? 'more than' : 'at least', issue.minimum);
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'must be a full URL such as https://example.com/page' : undefined;
    case 'invalid_union':
      if ('options' in issue && Array.isArray(issue.options)) return `must be one of: ${issue.options.map(String).join(', ')}`;
      return `must be exactly one of: ${unionKeys(issue.inst).join(', ')}`;
    default:
      return undefined;
  }
};

/**
 * The alternative a union input most likely meant: the one with strictly fewest issues.
 * `{ bought: 'yes' }` fails `bought` once but every other condition twice, so it is about `bought`.
 */
function closestAlternative(alternatives: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  const sorted = [...alternatives].sort((a, b) => a.length - b.length);
  const [first, second] = sorted;
  return first && (!second || first.length < second.length) ? first : undefined;
}

/** zod issues → problems: one per unknown key (at the key), unions narrowed to their likely alternative. */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], prefix: FieldPath = []): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"` }));
    if (issue.code === 'invalid_union') {
      const closest = closestAlternative(issue.errors);
      if (closest) return problemsFromIssues(closest, path);
    }
    return [{ path, message: issue.message }];
  });
}
