/**
 * JSON value types and the checks every document body goes through at both ends: a plain object
 * at the top, JSON values only, no `__proto__` key anywhere, bounded depth and size.
 */
import { SyncError, invalid } from './errors.js';

/** A JSON scalar. */
export type JsonPrimitive = string | number | boolean | null;
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Size and depth limits for documents (the relay's `limits` option). */
export interface DocumentLimits {
  /** Largest serialized document, in UTF-8 bytes. Default 256 KiB. */
  maxDocumentBytes: number;
  /** Deepest nesting of objects and arrays; the top-level object is depth 1. Default 32. */
  maxDepth: number;
}

/** The limits SPEC sets by default. */
export const DEFAULT_LIMITS: Readonly<DocumentLimits> = { maxDocumentBytes: 256 * 1024, maxDepth: 32 };

/** True for `{}`-style objects (not arrays, not class instances). */
export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value); // an array's is Array.prototype
  return proto === Object.prototype || proto === null;
}

const hasOwn: (obj: object, key: string) => boolean = Object.hasOwn;

/**
 * Checks that `value` is JSON all the way down, with no `__proto__` key and at most `maxDepth`
 * levels, counting `startDepth` for the level `value` sits at. Throws `invalid` naming the path.
 */
export function assertJsonValue(value: unknown, maxDepth: number, where: string, startDepth = 1): asserts value is JsonValue {
  // An explicit stack keeps hostile, very deep input from overflowing the call stack.
  const stack: Array<[v: unknown, depth: number, path: string]> = [[value, startDepth, where]];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop()!;
    switch (typeof v) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (!Number.isFinite(v)) throw invalid(`${path} is not a finite number`);
        continue;
      case 'object':
        break;
      default:
        throw invalid(`${path} is not JSON (found ${typeof v})`);
    }
    if (v === null) continue;
    if (depth > maxDepth) throw invalid(`${path} nests deeper than ${maxDepth} levels`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push([v[i], depth + 1, `${path}[${i}]`]);
      continue;
    }
    if (!isPlainObject(v)) throw invalid(`${path} is not a plain JSON object`);
    if (hasOwn(v, '__proto__')) throw invalid(`${path} has a "__proto__" key, which is refused`);
    for (const key of Object.keys(v)) stack.push([v[key], depth + 1, `${path}.${key}`]);
  }
}

/** Checks a whole document body: a plain JSON object within `limits.maxDepth`. */
export function assertDocumentData(data: unknown, limits: Pick<DocumentLimits, 'maxDepth'>, what = 'data'): asserts data is JsonObject {
  if (!isPlainObject(data)) throw invalid(`${what} must be a JSON object, got ${describe(data)}`);
  assertJsonValue(data, limits.maxDepth, what);
}

/** Throws `too_large` when `bytes` exceeds the limit. */
export function assertSize(bytes: number, limits: Pick<DocumentLimits, 'maxDocumentBytes'>): void {
  if (bytes > limits.maxDocumentBytes) {
    throw new SyncError('too_large', `document is ${bytes} bytes, over the limit of ${limits.maxDocumentBytes} bytes`);
  }
}

/** A short description of a value's kind, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Own-property deep equality for JSON values. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** Own-property read that never walks the prototype chain. */
export function getOwn(obj: JsonObject, key: string): JsonValue | undefined {
  return hasOwn(obj, key) ? obj[key] : undefined;
}

/** Own-property write that cannot hit `Object.prototype`, even for a key like `__proto__`. */
export function setOwn(obj: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export { hasOwn };
