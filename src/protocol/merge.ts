/** JSON Merge Patch (RFC 7386), the semantics of RedisJSON's `JSON.MERGE`, on own properties only. */
import { type JsonObject, type JsonValue, getOwn, isPlainObject, setOwn } from './json.js';

/**
 * A JSON Merge Patch for documents of type `T`: any subset of its fields, nested objects in
 * part, `null` to remove a field (only a field `T` allows to be missing: an optional one, or a
 * key of an index signature; a patch cannot set a field to `null`, since `null` removes it);
 * arrays and scalars are replaced whole.
 */
export type MergePatch<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: MergePatch<Exclude<T[K], null>> | (MayBeMissing<T, K> extends true ? null : never) }
    : T;

/** Whether key `K` of `T` may be absent: an optional field, or a key of an index signature. */
type MayBeMissing<T, K extends keyof T> = undefined extends T[K] ? true : string extends K ? true : number extends K ? true : false;

/**
 * Returns `target` with `patch` merged in: objects merge recursively, arrays and scalars replace,
 * `null` removes the key. Neither input is modified; untouched subtrees are shared.
 */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isPlainObject(patch)) return patch;
  const base: JsonObject = isPlainObject(target) ? { ...target } : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key]!;
    if (value === null) {
      delete base[key];
    } else {
      setOwn(base, key, mergePatch(getOwn(base, key), value));
    }
  }
  return base;
}
