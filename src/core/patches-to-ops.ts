/**
 * Turns the Immer patches of an `update` recipe into syncdoc field operations. Object fields
 * map one to one; arrays are sent as appends when the recipe only pushed, as element sets when
 * their length did not change, and whole otherwise (an insert or splice shifts indices, which
 * field paths cannot say).
 */
import type { Patch } from 'immer';
import { type JsonObject, type JsonValue, type MutationOp, formatPath, isPathAddressable } from '../protocol/index.js';

/** Ops for the patches, or `undefined` when the change must be sent as a whole `replace`. */
export function patchesToOps(patches: readonly Patch[], base: JsonObject, next: JsonObject): MutationOp[] | undefined {
  if (patches.some((p) => p.path.length === 0)) return undefined; // the recipe returned a new root
  const wholeArrays = new Map<string, (string | number)[]>();
  const ops: MutationOp[] = [];
  for (const patch of patches) {
    const path = patch.path as (string | number)[];
    if (path.some((seg) => typeof seg === 'string' && !isPathAddressable(seg))) return undefined;
    // The outermost array on the path whose length changed is sent whole.
    const arrayAt = outermostResizedArray(path, base, next);
    if (arrayAt !== undefined) {
      const arrayPath = path.slice(0, arrayAt);
      wholeArrays.set(formatPath(arrayPath), arrayPath);
      continue;
    }
    const p = formatPath(path);
    ops.push(patch.op === 'remove' ? { op: 'remove', path: p } : { op: 'set', path: p, value: valueAt(next, path) as JsonValue });
  }
  const out: MutationOp[] = [];
  for (const [p, arrayPath] of wholeArrays) {
    const before = valueAt(base, arrayPath) as JsonValue[] | undefined;
    const after = valueAt(next, arrayPath) as JsonValue[];
    if (Array.isArray(before) && after.length > before.length && before.every((v, i) => v === after[i])) {
      for (const item of after.slice(before.length)) out.push({ op: 'append', path: p, value: item });
    } else {
      out.push({ op: 'set', path: p, value: after });
    }
  }
  const inside = (p: string) => [...wholeArrays.keys()].some((a) => p === a || p.startsWith(`${a}.`));
  return [...out, ...ops.filter((o) => !inside(o.path))];
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const seg of path) v = v === null || typeof v !== 'object' ? undefined : (v as Record<string, unknown>)[seg];
  return v;
}

/** Index in `path` of the first array (as a prefix length) whose length differs between base and next. */
function outermostResizedArray(path: readonly (string | number)[], base: unknown, next: unknown): number | undefined {
  for (let i = 0; i < path.length; i++) {
    const b = valueAt(base, path.slice(0, i));
    const n = valueAt(next, path.slice(0, i));
    if (Array.isArray(n) && (!Array.isArray(b) || b.length !== n.length || path[i] === 'length')) return i;
    if (Array.isArray(b) && !Array.isArray(n)) return undefined;
  }
  return undefined;
}
