/**
 * Field paths: `settings.theme`, `items.3`; a `.` or `\` inside a key is escaped as `\.` / `\\`.
 * Mutations and diffs share this syntax, so a diff path can be fed back to `mutate`.
 */
import { invalid } from './errors.js';

/** Splits a path into its keys, undoing the escapes. Throws `invalid` on a dangling `\`. */
export function parsePath(path: string): string[] {
  if (typeof path !== 'string') throw invalid('a path must be a string');
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    if (ch === '\\') {
      const next = path[i + 1];
      if (next !== '.' && next !== '\\') throw invalid(`path ${JSON.stringify(path)} has a "\\" that escapes neither "." nor "\\"`);
      current += next;
      i++;
    } else if (ch === '.') {
      segments.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  segments.push(current);
  return segments;
}

/** Escapes one key for use in a path. */
export function escapeKey(key: string): string {
  return key.includes('\\') || key.includes('.') ? key.replace(/[\\.]/g, (c) => `\\${c}`) : key;
}

/** Joins keys into a path, escaping each. */
export function formatPath(segments: readonly (string | number)[]): string {
  return segments.map((s) => escapeKey(String(s))).join('.');
}

/** Appends one key to an already formatted path; `null` is the document itself. */
export function childPath(parent: string | null, key: string | number): string {
  const k = escapeKey(String(key));
  return parent === null ? k : `${parent}.${k}`;
}

/** The array index a segment names, or `undefined` when it is not a canonical non-negative integer. */
export function arrayIndex(segment: string): number | undefined {
  return /^(0|[1-9][0-9]{0,8})$/.test(segment) ? Number(segment) : undefined;
}

/**
 * Whether a key can be named in a mutation path. RedisJSON 2.8 matches escaped quotes and
 * backslashes in JSONPath keys when reading but not when writing, and drops leading spaces, so
 * keys holding a `\` or both kinds of quote, or starting with whitespace, are refused in paths
 * (for every store, so behaviour does not depend on the driver); `merge` and `replace` can
 * still write them.
 */
export function isPathAddressable(key: string): boolean {
  // RedisJSON also drops leading spaces from quoted keys, so `' a'` would write to `a`.
  return !key.includes('\\') && !(key.includes("'") && key.includes('"')) && !/^\s/.test(key);
}
