/** fast-check arbitraries and small helpers shared by the protocol tests. */
import fc from 'fast-check';
import { expect } from 'vitest';
import { type JsonObject, type JsonValue, SyncError } from '../../src/protocol/index.js';

/**
 * Object keys that stress the path syntax and own-property handling: dots, backslashes, quotes,
 * digits (array-index look-alikes), `constructor`/`prototype`, the empty key. Never `__proto__`.
 */
export const trickyKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'x.y', 'a\\b', '.', '\\', "it's", 'say "hi"', 'constructor', 'prototype', 'toString', '0', '1', '2', '10', '01', '', 'é'),
  fc.string({ maxLength: 4 }).filter((k) => k !== '__proto__'),
);

/** JSON scalars; numbers are finite and never -0 (which JSON cannot carry). */
export const scalar: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 5 }),
);

/** Any JSON value, objects keyed by `key`. */
export function jsonValue(key: fc.Arbitrary<string> = trickyKey, maxDepth = 4): fc.Arbitrary<JsonValue> {
  return fc.letrec<{ v: JsonValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', maxDepth },
      scalar,
      fc.array(tie('v'), { maxLength: 6 }),
      fc.dictionary(key, tie('v'), { maxKeys: 4, noNullPrototype: true }),
    ),
  })).v;
}

/** A JSON object (a document body). */
export function jsonObject(key: fc.Arbitrary<string> = trickyKey, topKey: fc.Arbitrary<string> = key): fc.Arbitrary<JsonObject> {
  return fc.dictionary(topKey, jsonValue(key), { maxKeys: 5, noNullPrototype: true });
}

/** Freezes `value` and everything under it, so any write into it throws (ESM is strict mode). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Own enumerable keys of Object.prototype, to check that nothing was added to it. */
export function prototypeKeys(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}

/** The `invalid` SyncError (400) that `fn` throws; fails the test when it throws nothing or something else. */
export function invalidOf(fn: () => unknown): SyncError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SyncError);
    expect((err as SyncError).code).toBe('invalid');
    expect((err as SyncError).status).toBe(400);
    return err as SyncError;
  }
  throw new Error('expected SyncError invalid, nothing was thrown');
}
