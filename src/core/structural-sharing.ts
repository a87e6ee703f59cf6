/**
 * Structural sharing for server snapshots: keep the previous value's references wherever the
 * new value is deep-equal, so React (and `select`) sees only what really changed.
 */
import { type JsonObject, type JsonValue, hasOwn, isPlainObject, setOwn } from '../protocol/index.js';
import { freezeDeep } from '../protocol/tree.js';

/** `next`, but reusing every subtree of `prev` that is deep-equal to its counterpart. Frozen. */
export function replaceEqualDeep<T>(prev: unknown, next: T): T {
  return freezeDeep(share(prev, next)) as T;
}

function share(prev: unknown, next: unknown): unknown {
  if (prev === next) return prev;
  if (Array.isArray(prev) && Array.isArray(next)) {
    let same = prev.length === next.length;
    const out = next.map((item, i) => {
      const shared = share(prev[i], item);
      if (shared !== prev[i]) same = false;
      return shared;
    });
    return same ? prev : out;
  }
  if (isPlainObject(prev) && isPlainObject(next)) {
    const prevKeys = Object.keys(prev);
    const nextKeys = Object.keys(next);
    let same = prevKeys.length === nextKeys.length;
    const out: JsonObject = {};
    for (const key of nextKeys) {
      const had = hasOwn(prev, key);
      const shared = share(had ? prev[key] : undefined, next[key]) as JsonValue;
      if (!had || shared !== prev[key]) same = false;
      setOwn(out, key, shared);
    }
    return same ? prev : out;
  }
  return next;
}
