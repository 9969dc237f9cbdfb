/** Dotted-path access on stored documents, with mongod's implicit traversal of arrays. */
import type { Document } from 'bson';
import { isPlainObject, ownField, setField } from './values.ts';

/**
 * Every value a dotted path reaches. Arrays met on the way are traversed element-wise (and a numeric
 * segment also indexes them); a leaf array is returned as-is so callers decide whether to expand it.
 */
export function collectPath(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  walk(doc, path.split('.'), 0, out);
  return out;
}

function walk(v: unknown, segs: string[], i: number, out: unknown[]): void {
  if (i === segs.length) {
    out.push(v);
    return;
  }
  const seg = segs[i] as string;
  if (Array.isArray(v)) {
    if (/^\d+$/.test(seg)) {
      const el = v[Number(seg)];
      if (el !== undefined) walk(el, segs, i + 1, out);
    }
    for (const el of v) if (isPlainObject(el) || Array.isArray(el)) walk(el, segs, i, out);
    return;
  }
  if (isPlainObject(v)) {
    if (Object.hasOwn(v, seg)) walk(v[seg], segs, i + 1, out);
    else out.push(undefined);
    return;
  }
  out.push(undefined);
}

/** The single value at a path, without array traversal (numeric segments index arrays). */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (Array.isArray(cur)) cur = /^\d+$/.test(seg) ? cur[Number(seg)] : undefined;
    else if (isPlainObject(cur)) cur = ownField(cur, seg);
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Value used to sort/compare a path: multiple reached values behave like an array. */
export function sortPathValue(doc: unknown, path: string): unknown {
  if (!path.includes('.')) return isPlainObject(doc) ? ownField(doc, path) : undefined;
  const vals = collectPath(doc, path).filter((v) => v !== undefined);
  if (vals.length === 0) return undefined;
  return vals.length === 1 ? vals[0] : vals.flat();
}

export class PathError extends Error {}

/**
 * Container + key for writing at a path, creating intermediate objects. Throws PathError when a
 * scalar is in the way (mongod's "Cannot create field 'x' in element {...}").
 */
export function resolveParent(doc: Document, path: string, create: boolean): { parent: Document | unknown[]; key: string } | undefined {
  const segs = path.split('.');
  let cur: Document | unknown[] = doc;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i] as string;
    let next: unknown;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) throw new PathError(`Cannot create field '${seg}' in element {${segs.slice(0, i).join('.')}: [...]}`);
      next = cur[Number(seg)];
    } else next = ownField(cur, seg);
    if (next === undefined || next === null) {
      if (!create) return undefined;
      if (next === null) throw new PathError(`Cannot create field '${segs[i + 1] ?? ''}' in element {${seg}: null}`);
      next = {};
      if (Array.isArray(cur)) {
        while (cur.length < Number(seg)) cur.push(null);
        cur[Number(seg)] = next;
      } else setField(cur, seg, next);
    } else if (!isPlainObject(next) && !Array.isArray(next)) {
      if (!create) return undefined;
      throw new PathError(`Cannot create field '${segs[i + 1] ?? ''}' in element {${seg}: ${JSON.stringify(next)}}`);
    }
    cur = next as Document | unknown[];
  }
  return { parent: cur, key: segs[segs.length - 1] as string };
}

export function setPath(doc: Document, path: string, value: unknown): void {
  const loc = resolveParent(doc, path, true);
  if (!loc) return;
  if (Array.isArray(loc.parent)) {
    if (!/^\d+$/.test(loc.key)) throw new PathError(`Cannot create field '${loc.key}' in an array`);
    const idx = Number(loc.key);
    while (loc.parent.length < idx) loc.parent.push(null);
    loc.parent[idx] = value;
  } else setField(loc.parent, loc.key, value);
}

export function unsetPath(doc: Document, path: string): void {
  const loc = resolveParent(doc, path, false);
  if (!loc) return;
  // mongod nulls array slots instead of shifting elements.
  if (Array.isArray(loc.parent)) {
    if (/^\d+$/.test(loc.key) && Number(loc.key) < loc.parent.length) loc.parent[Number(loc.key)] = null;
  } else delete loc.parent[loc.key];
}
