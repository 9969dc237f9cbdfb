/** Small helpers shared by command handlers. */
import type { Document } from 'bson';
import { badValue } from '../errors.ts';
import { isPlainObject, numericValue } from '../values.ts';
import type { CommandContext } from './types.ts';

export function optNumber(cmd: Document, field: string): number | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  const n = numericValue(v);
  if (n === undefined || Number.isNaN(n)) throw badValue(`Field '${field}' must be numeric`);
  return n;
}

export function optDoc(cmd: Document, field: string): Document | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw badValue(`Field '${field}' must be an object`);
  return v;
}

export function collName(cmd: Document, name: string): string {
  const v = cmd[name];
  if (typeof v !== 'string' || v === '') throw badValue(`collection name has invalid type ${typeof v}`);
  return v;
}

export const nsOf = (ctx: CommandContext, coll: string): string => `${ctx.db}.${coll}`;
