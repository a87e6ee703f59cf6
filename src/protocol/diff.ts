/**
 * Document diffs: `{ added, removed, changed }` keyed by field path (see paths.ts). Objects are
 * compared key by key, arrays index by index; a change of type is one `changed` entry.
 */
import { type JsonObject, type JsonValue, getOwn, hasOwn, isPlainObject, setOwn } from './json.js';
import { arrayIndex, childPath, parsePath } from './paths.js';
import { TreeEditor } from './tree.js';

/** What one write changed, keyed by path. */
export interface SyncDiff {
  /** Paths that did not exist before, with their new values. */
  added: Record<string, unknown>;
  /** Paths that no longer exist, with their old values. */
  removed: Record<string, unknown>;
  /** Paths whose value changed. */
  changed: Record<string, { from: unknown; to: unknown }>;
}

/** An empty diff. */
export function emptyDiff(): SyncDiff {
  return { added: {}, removed: {}, changed: {} };
}

/** True when the diff records no change. */
export function isEmptyDiff(diff: SyncDiff): boolean {
  for (const part of [diff.added, diff.removed, diff.changed]) for (const _ in part) return false;
  return true;
}

/** The diff that turns `before` into `after`. */
export function computeDiff(before: JsonObject, after: JsonObject): SyncDiff {
  const out = emptyDiff();
  diffInto(before, after, null, out);
  return out;
}

/**
 * Adds to `out` the changes between `before` and `after`, the values at `path` (`null` for the
 * document itself: `''` is the path of a top-level key that is the empty string). `undefined`
 * stands for "absent", so this also diffs one subtree of a larger document.
 */
export function diffInto(before: JsonValue | undefined, after: JsonValue | undefined, path: string | null, out: SyncDiff): void {
  if (before === after) return;
  if (path === null) {
    // The document itself is always an object; absent means empty.
    before ??= {};
    after ??= {};
  }
  if (before === undefined) {
    setOwn(out.added as JsonObject, path!, after as JsonValue);
    return;
  }
  if (after === undefined) {
    setOwn(out.removed as JsonObject, path!, before);
    return;
  }
  // Key by key, index by index: what only `before` has is removed, what only `after` has is added.
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of Object.keys(before)) diffInto(before[key], getOwn(after, key), childPath(path, key), out);
    for (const key of Object.keys(after)) if (!hasOwn(before, key)) diffInto(undefined, after[key], childPath(path, key), out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) diffInto(before[i], after[i], childPath(path, i), out);
    return;
  }
  // A scalar changed, or the type did.
  setOwn(out.changed as JsonObject, path ?? '', { from: before, to: after } as JsonObject);
}

/** The diff that undoes `diff`: applied to the document after it, it gives the one before. */
export function invertDiff(diff: SyncDiff): SyncDiff {
  const changed: SyncDiff['changed'] = {};
  for (const path of Object.keys(diff.changed)) {
    const { from, to } = diff.changed[path]!;
    Object.defineProperty(changed, path, { value: { from: to, to: from }, enumerable: true, writable: true, configurable: true });
  }
  return { added: diff.removed, removed: diff.added, changed };
}

/**
 * Orders entries so that, under each parent, numbered keys come by index: descending (`order`
 * -1) for removals (each splice leaves the lower indices in place), ascending (1) for additions
 * (each one appends). Entries of different parents do not affect each other and keep their order.
 */
function byIndex(entries: Array<[string[], unknown]>, order: 1 | -1): Array<[string[], unknown]> {
  const groups = new Map<string, Array<[string[], unknown]>>();
  for (const entry of entries) {
    const parent = JSON.stringify(entry[0].slice(0, -1));
    let group = groups.get(parent);
    if (!group) groups.set(parent, (group = []));
    group.push(entry);
  }
  const index = (e: [string[], unknown]) => arrayIndex(e[0][e[0].length - 1]!) ?? -1;
  const out: Array<[string[], unknown]> = [];
  for (const group of groups.values()) out.push(...group.sort((a, b) => order * (index(a) - index(b))));
  return out;
}

/**
 * Applies a diff and returns the new document; `data` is not modified and unchanged subtrees
 * are shared with it. With `freeze`, what the diff made is frozen too (so a frozen input gives
 * a frozen result, at the cost of the changed paths only).
 */
export function applyDiff<T extends Record<string, unknown>>(data: T, diff: SyncDiff, options?: { freeze?: boolean }): T {
  const tree = new TreeEditor(data as unknown as JsonObject);
  const parse = (part: Record<string, unknown>) => Object.keys(part).map((p): [string[], unknown] => [parsePath(p), part[p]]);
  for (const [segments] of byIndex(parse(diff.removed), -1)) tree.remove(segments);
  for (const path of Object.keys(diff.changed)) tree.set(parsePath(path), diff.changed[path]!.to as JsonValue);
  for (const [segments, value] of byIndex(parse(diff.added), 1)) tree.set(segments, value as JsonValue);
  if (options?.freeze) tree.freeze();
  return tree.root as unknown as T;
}
