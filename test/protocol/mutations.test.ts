import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type {
  SyncError} from '../../src/protocol/index.js';
import {
  type JsonObject,
  type MutationOp,
  append,
  applyMutations,
  increment,
  normalizeMutations,
  remove,
} from '../../src/protocol/index.js';
import { deepFreeze, invalidOf, jsonObject, prototypeKeys } from './arbitraries.js';


/** `{ k: { k: ... {} } }`, `levels` objects deep ({} is 1). */
function nested(levels: number): JsonObject {
  let v: JsonObject = {};
  for (let i = 1; i < levels; i++) v = { k: v };
  return v;
}

describe('normalizeMutations: record form', () => {
  it('turns plain values into set ops, in key order', () => {
    expect(normalizeMutations({ status: 'ended', 'settings.theme': 'dark', 'items.0': { a: 1 }, n: null })).toEqual([
      { op: 'set', path: 'status', value: 'ended' },
      { op: 'set', path: 'settings.theme', value: 'dark' },
      { op: 'set', path: 'items.0', value: { a: 1 } },
      { op: 'set', path: 'n', value: null },
    ]);
  });

  it('understands increment(), remove() and append(...items)', () => {
    expect(normalizeMutations({ count: increment(), score: increment(-2.5), old: remove(), tags: append('a', { b: 1 }, [2]) })).toEqual([
      { op: 'increment', path: 'count', value: 1 },
      { op: 'increment', path: 'score', value: -2.5 },
      { op: 'remove', path: 'old' },
      { op: 'append', path: 'tags', value: 'a' },
      { op: 'append', path: 'tags', value: { b: 1 } },
      { op: 'append', path: 'tags', value: [2] },
    ]);
  });

  it('helpers are frozen values, not plain data', () => {
    const h = increment(3);
    expect(Object.isFrozen(h)).toBe(true);
    // A look-alike plain object is a value to set, not an operation.
    expect(normalizeMutations({ a: { op: 'increment', values: [3] } })).toEqual([{ op: 'set', path: 'a', value: { op: 'increment', values: [3] } }]);
  });

  it('accepts escaped keys in paths', () => {
    expect(normalizeMutations({ 'a\\.b.c': 1 })).toEqual([{ op: 'set', path: 'a\\.b.c', value: 1 }]);
  });
});

describe('normalizeMutations: array form', () => {
  it('checks and normalizes each op', () => {
    expect(
      normalizeMutations([
        { op: 'set', path: 'a', value: 1 },
        { op: 'remove', path: 'b' },
        { op: 'increment', path: 'c' },
        { op: 'increment', path: 'd', value: 5 },
        { op: 'append', path: 'e', value: [1] },
      ]),
    ).toEqual([
      { op: 'set', path: 'a', value: 1 },
      { op: 'remove', path: 'b' },
      { op: 'increment', path: 'c', value: 1 },
      { op: 'increment', path: 'd', value: 5 },
      { op: 'append', path: 'e', value: [1] },
    ]);
  });

  it('drops a value given to remove', () => {
    expect(normalizeMutations([{ op: 'remove', path: 'b', value: undefined }])).toEqual([{ op: 'remove', path: 'b' }]);
  });
});

describe('normalizeMutations: errors are SyncError invalid', () => {
  it('refuses empty and non-object input', () => {
    invalidOf(() => normalizeMutations({}));
    invalidOf(() => normalizeMutations([]));
    for (const bad of [null, undefined, 'a', 1, true, new Map([['a', 1]]), new Date(), () => 1]) invalidOf(() => normalizeMutations(bad));
  });

  it('refuses bad ops', () => {
    invalidOf(() => normalizeMutations([{ op: 'inc', path: 'a', value: 1 }]));
    invalidOf(() => normalizeMutations([{ op: 'SET', path: 'a', value: 1 }]));
    invalidOf(() => normalizeMutations([{ path: 'a', value: 1 }]));
    invalidOf(() => normalizeMutations([null]));
    invalidOf(() => normalizeMutations(['set']));
    invalidOf(() => normalizeMutations([[{ op: 'set', path: 'a', value: 1 }]]));
    invalidOf(() => normalizeMutations([{ op: 'set', path: 'a' }]));
    invalidOf(() => normalizeMutations([{ op: 'append', path: 'a' }]));
    invalidOf(() => normalizeMutations({ a: undefined }));
  });

  it('refuses bad paths', () => {
    for (const path of ['', 1, null, undefined, 'a\\', 'a\\x']) invalidOf(() => normalizeMutations([{ op: 'set', path, value: 1 }]));
    invalidOf(() => normalizeMutations({ 'a\\': 1 }));
  });

  it('refuses a non-finite or non-number increment', () => {
    for (const n of [NaN, Infinity, -Infinity]) {
      invalidOf(() => normalizeMutations({ a: increment(n) }));
      invalidOf(() => normalizeMutations([{ op: 'increment', path: 'a', value: n }]));
    }
    invalidOf(() => normalizeMutations([{ op: 'increment', path: 'a', value: '1' }]));
    invalidOf(() => normalizeMutations([{ op: 'increment', path: 'a', value: null }]));
  });

  it('refuses __proto__ anywhere in a path, and in values', () => {
    invalidOf(() => normalizeMutations({ __proto__x: 1, 'a.__proto__.b': 1 }));
    invalidOf(() => normalizeMutations({ ['__proto__']: 1 }));
    invalidOf(() => normalizeMutations(JSON.parse('{"__proto__":{"polluted":1}}')));
    invalidOf(() => normalizeMutations([{ op: 'set', path: '__proto__', value: 1 }]));
    invalidOf(() => normalizeMutations([{ op: 'remove', path: 'x.__proto__' }]));
    invalidOf(() => normalizeMutations([{ op: 'set', path: 'a', value: JSON.parse('{"b":{"__proto__":1}}') }]));
    invalidOf(() => normalizeMutations({ a: append(JSON.parse('{"__proto__":1}')) }));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses keys that are not path-addressable (backslash, both quotes)', () => {
    invalidOf(() => normalizeMutations({ 'a\\\\b': 1 }));
    invalidOf(() => normalizeMutations({ 'x.a\\\\b.y': 1 }));
    invalidOf(() => normalizeMutations({ [`it's "x"`]: 1 }));
    invalidOf(() => normalizeMutations([{ op: 'remove', path: `a.'"` }]));
    // One kind of quote is fine.
    expect(normalizeMutations({ "it's": 1, 'say "hi"': 2 })).toHaveLength(2);
  });

  it('refuses non-JSON values', () => {
    for (const value of [NaN, Infinity, new Date(), new Map(), () => 1, Symbol('s'), 10n, { a: undefined }, [undefined], { d: new Date() }]) {
      invalidOf(() => normalizeMutations([{ op: 'set', path: 'a', value }]));
    }
    invalidOf(() => normalizeMutations({ a: append(1, NaN) }));
  });

  it('limits path depth to 32 segments', () => {
    const path = (n: number) => Array.from({ length: n }, () => 'k').join('.');
    expect(normalizeMutations({ [path(32)]: 1 })).toHaveLength(1);
    invalidOf(() => normalizeMutations({ [path(33)]: 1 }));
    invalidOf(() => normalizeMutations([{ op: 'remove', path: path(33) }]));
    expect(normalizeMutations({ [path(3)]: 1 }, 3)).toHaveLength(1);
    invalidOf(() => normalizeMutations({ [path(4)]: 1 }, 3));
  });

  it('limits path + value depth to 32 levels, the document being level 1', () => {
    // Path `a` is level 2, so the value may nest 31 levels.
    expect(normalizeMutations({ a: nested(31) })).toHaveLength(1);
    invalidOf(() => normalizeMutations({ a: nested(32) }));
    expect(normalizeMutations({ 'a.b': nested(30) })).toHaveLength(1);
    invalidOf(() => normalizeMutations({ 'a.b': nested(31) }));
    invalidOf(() => normalizeMutations({ a: append(nested(32)) }));
  });
});

describe('applyMutations', () => {
  const apply = (data: JsonObject, ops: MutationOp[] | Record<string, unknown>) => applyMutations(deepFreeze(data), normalizeMutations(ops));

  it('set creates missing parent objects', () => {
    expect(apply({}, { 'a.b.c': 1 })).toEqual({ a: { b: { c: 1 } } });
    expect(apply({ a: { x: 1 } }, { 'a.b.c': 1 })).toEqual({ a: { x: 1, b: { c: 1 } } });
    expect(apply({}, { 'x\\.y.z': 1 })).toEqual({ 'x.y': { z: 1 } });
  });

  it('set through a scalar is invalid', () => {
    invalidOf(() => apply({ a: 1 }, { 'a.b': 2 }));
    invalidOf(() => apply({ a: 'str' }, { 'a.b.c': 2 }));
    invalidOf(() => apply({ a: null }, { 'a.b': 2 }));
  });

  it('set on arrays: index < length replaces, index == length appends, index > length is invalid', () => {
    expect(apply({ items: [1, 2] }, { 'items.0': 9 })).toEqual({ items: [9, 2] });
    expect(apply({ items: [1, 2] }, { 'items.2': 3 })).toEqual({ items: [1, 2, 3] });
    expect(apply({ items: [] }, { 'items.0': 'x' })).toEqual({ items: ['x'] });
    invalidOf(() => apply({ items: [1, 2] }, { 'items.3': 3 }));
    invalidOf(() => apply({ items: [1, 2] }, { 'items.x': 3 }));
    invalidOf(() => apply({ items: [1, 2] }, { 'items.01': 3 }));
    invalidOf(() => apply({ items: [1, 2] }, { 'items.-1': 3 }));
    expect(apply({ items: [{ a: 1 }] }, { 'items.0.b': 2 })).toEqual({ items: [{ a: 1, b: 2 }] });
    // No parent is created inside an array.
    invalidOf(() => apply({ items: [] }, { 'items.0.b': 2 }));
  });

  it('remove deletes a field, splices an array element, and is a no-op when missing', () => {
    expect(apply({ a: 1, b: 2 }, { a: remove() })).toEqual({ b: 2 });
    expect(apply({ items: [1, 2, 3] }, { 'items.1': remove() })).toEqual({ items: [1, 3] });
    const data = { a: { b: 1 }, items: [1], s: 'x' };
    for (const path of ['zzz', 'a.zzz', 'x.y.z', 'items.5', 'items.1', 'items.x', 'items.x.y', 's.length', 'a.b.c']) {
      const out = apply(structuredClone(data), { [path]: remove() });
      expect(out, path).toEqual(data);
    }
  });

  it('increment adds, sets n when missing, and refuses non-numbers', () => {
    expect(apply({ n: 1 }, { n: increment() })).toEqual({ n: 2 });
    expect(apply({ n: 1 }, { n: increment(-3) })).toEqual({ n: -2 });
    expect(apply({}, { n: increment(5) })).toEqual({ n: 5 });
    expect(apply({}, { 'a.b': increment(2) })).toEqual({ a: { b: 2 } });
    expect(apply({ items: [1] }, { 'items.0': increment(2) })).toEqual({ items: [3] });
    for (const v of ['1', null, true, [1], { a: 1 }]) invalidOf(() => apply({ n: v }, { n: increment() }));
  });

  it('increment whose result is not finite is invalid', () => {
    invalidOf(() => apply({ n: Number.MAX_VALUE }, { n: increment(Number.MAX_VALUE) }));
  });

  it('append pushes, creates a missing array, and refuses non-arrays', () => {
    expect(apply({ tags: ['a'] }, { tags: append('b', 'c') })).toEqual({ tags: ['a', 'b', 'c'] });
    expect(apply({ tags: ['a'] }, { tags: append([1, 2]) })).toEqual({ tags: ['a', [1, 2]] });
    expect(apply({}, { tags: append(1) })).toEqual({ tags: [1] });
    expect(apply({}, { 'a.tags': append(1, 2) })).toEqual({ a: { tags: [1, 2] } });
    for (const v of ['s', 1, null, { 0: 'a' }]) invalidOf(() => apply({ tags: v }, { tags: append('x') }));
  });

  it('applies ops in order', () => {
    expect(
      apply({}, [
        { op: 'set', path: 'a', value: { n: 1 } },
        { op: 'increment', path: 'a.n', value: 2 },
        { op: 'append', path: 'a.list', value: 'x' },
        { op: 'set', path: 'a.list.1', value: 'y' },
        { op: 'remove', path: 'a.list.0' },
      ]),
    ).toEqual({ a: { n: 3, list: ['y'] } });
  });

  it('all or nothing: a failing op leaves the input untouched and throws', () => {
    const data = deepFreeze({ a: 1, s: 'text', items: [1, 2], o: { x: 1 } });
    const snapshot = structuredClone(data);
    const ops = normalizeMutations([
      { op: 'set', path: 'a', value: 2 },
      { op: 'append', path: 'items', value: 3 },
      { op: 'set', path: 'o.y', value: 2 },
      { op: 'remove', path: 'o.x' },
      { op: 'increment', path: 's', value: 1 },
    ]);
    invalidOf(() => applyMutations(data, ops));
    expect(data).toEqual(snapshot);
  });

  it('does not mutate the input and shares untouched subtrees', () => {
    const data = deepFreeze({ a: { x: 1 }, b: { y: [1, 2] }, items: [{ z: 1 }, { z: 2 }] });
    const out = applyMutations(data, normalizeMutations({ 'a.x': 2, 'items.1.z': increment() }));
    expect(out).toEqual({ a: { x: 2 }, b: { y: [1, 2] }, items: [{ z: 1 }, { z: 3 }] });
    expect(out.b).toBe(data.b);
    expect((out.items as JsonObject[])[0]).toBe(data.items[0]);
    expect(out.a).not.toBe(data.a);
  });

  it('constructor/prototype are plain data; Object.prototype is never touched', () => {
    const before = prototypeKeys();
    expect(apply({}, { 'constructor.prototype.polluted': 1, toString: increment(), 'hasOwnProperty.x': append(1) })).toEqual({
      constructor: { prototype: { polluted: 1 } },
      toString: 1,
      hasOwnProperty: { x: [1] },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(prototypeKeys()).toEqual(before);
  });

  it('property: a failing mutate never changes its (frozen) input; a succeeding one matches a set-by-set replay', () => {
    const key = fc.constantFrom('a', 'b', '0', '1', 'x.y', 'constructor');
    const path = fc.array(key, { minLength: 1, maxLength: 3 }).map((segs) => segs.map((s) => s.replace(/[\\.]/g, (c) => `\\${c}`)).join('.'));
    const op = fc.oneof(
      fc.record({ op: fc.constant('set' as const), path, value: fc.oneof(fc.integer(), fc.constant({}), fc.constant([])) }),
      fc.record({ op: fc.constant('remove' as const), path }),
      fc.record({ op: fc.constant('increment' as const), path, value: fc.integer({ min: -3, max: 3 }) }),
      fc.record({ op: fc.constant('append' as const), path, value: fc.integer() }),
    );
    fc.assert(
      fc.property(jsonObject(key), fc.array(op, { minLength: 1, maxLength: 5 }), (data, rawOps) => {
        const snapshot = structuredClone(data);
        deepFreeze(data);
        const ops = normalizeMutations(rawOps);
        let all: JsonObject | undefined;
        try {
          all = applyMutations(data, ops);
        } catch (err) {
          expect((err as SyncError).code).toBe('invalid');
        }
        expect(data).toEqual(snapshot);
        // Applying the ops one call at a time gives the same outcome.
        let step: JsonObject | undefined = data;
        try {
          for (const o of ops) step = applyMutations(step!, [o]);
        } catch {
          step = undefined;
        }
        expect(all).toEqual(step);
      }),
      { numRuns: 500 },
    );
  });
});
