import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonObject, type SyncDiff, applyDiff, computeDiff, emptyDiff, isEmptyDiff, parsePath } from '../../src/protocol/index.js';
import { deepFreeze, jsonObject, prototypeKeys, trickyKey } from './arbitraries.js';

const diff = (d: Partial<SyncDiff>): SyncDiff => ({ ...emptyDiff(), ...d });

describe('computeDiff (SPEC examples)', () => {
  it('top-level fields use their bare name', () => {
    expect(computeDiff({ status: 'active', gone: 1 }, { status: 'ended', added: true })).toEqual({
      added: { added: true },
      removed: { gone: 1 },
      changed: { status: { from: 'active', to: 'ended' } },
    });
  });

  it('nested fields are dot-joined', () => {
    const before = { settings: { theme: 'dark', font: { size: 12 } } };
    const after = { settings: { theme: 'light', font: { size: 12, family: 'mono' } } };
    expect(computeDiff(before, after)).toEqual(
      diff({ changed: { 'settings.theme': { from: 'dark', to: 'light' } }, added: { 'settings.font.family': 'mono' } }),
    );
  });

  it('arrays: common indices changed, a longer tail added', () => {
    expect(computeDiff({ items: [1, 2] }, { items: [1, 5, 6, 7] })).toEqual(
      diff({ changed: { 'items.1': { from: 2, to: 5 } }, added: { 'items.2': 6, 'items.3': 7 } }),
    );
  });

  it('arrays: a shorter tail removed', () => {
    expect(computeDiff({ items: [1, 2, 3, 4] }, { items: [9, 2] })).toEqual(
      diff({ changed: { 'items.0': { from: 1, to: 9 } }, removed: { 'items.2': 3, 'items.3': 4 } }),
    );
  });

  it('array elements that are objects are compared key by key', () => {
    expect(computeDiff({ items: [{ name: 'a', n: 1 }] }, { items: [{ name: 'b', n: 1 }] })).toEqual(
      diff({ changed: { 'items.0.name': { from: 'a', to: 'b' } } }),
    );
  });

  it('a change of type is one changed entry with whole values', () => {
    expect(computeDiff({ a: { x: 1, y: 2 } }, { a: [1, 2] })).toEqual(diff({ changed: { a: { from: { x: 1, y: 2 }, to: [1, 2] } } }));
    expect(computeDiff({ a: [1] }, { a: { 0: 1 } })).toEqual(diff({ changed: { a: { from: [1], to: { 0: 1 } } } }));
    expect(computeDiff({ a: 1 }, { a: '1' })).toEqual(diff({ changed: { a: { from: 1, to: '1' } } }));
    expect(computeDiff({ a: null }, { a: {} })).toEqual(diff({ changed: { a: { from: null, to: {} } } }));
    expect(computeDiff({ a: { b: 1 } }, { a: null })).toEqual(diff({ changed: { a: { from: { b: 1 }, to: null } } }));
    expect(computeDiff({ a: false }, { a: 0 })).toEqual(diff({ changed: { a: { from: false, to: 0 } } }));
  });

  it('equal documents (distinct objects) give an empty diff', () => {
    const d = computeDiff({ a: { b: [1, { c: null }] }, s: 'x' }, { s: 'x', a: { b: [1, { c: null }] } });
    expect(d).toEqual(emptyDiff());
    expect(isEmptyDiff(d)).toBe(true);
    expect(isEmptyDiff(diff({ removed: { a: 1 } }))).toBe(false);
    expect(isEmptyDiff(diff({ changed: { a: { from: 1, to: 2 } } }))).toBe(false);
  });

  it('escapes keys that hold . or \\', () => {
    expect(computeDiff({}, { 'a.b': 1, 'c\\d': 2 })).toEqual(diff({ added: { 'a\\.b': 1, 'c\\\\d': 2 } }));
    expect(computeDiff({ 'x.y': { 'p\\q': 1 } }, { 'x.y': { 'p\\q': 2 } })).toEqual(
      diff({ changed: { 'x\\.y.p\\\\q': { from: 1, to: 2 } } }),
    );
    const d = computeDiff({ 'a.b': { c: [1, 2] } }, { 'a.b': { c: [1] } });
    expect(d).toEqual(diff({ removed: { 'a\\.b.c.1': 2 } }));
    expect(parsePath(Object.keys(d.removed)[0]!)).toEqual(['a.b', 'c', '1']);
  });

  it('constructor and prototype keys are plain data', () => {
    expect(computeDiff({}, { constructor: 1, prototype: { x: 1 } })).toEqual(diff({ added: { constructor: 1, prototype: { x: 1 } } }));
    expect(computeDiff({ constructor: { a: 1 } }, { constructor: { a: 2 } })).toEqual(
      diff({ changed: { 'constructor.a': { from: 1, to: 2 } } }),
    );
    expect(computeDiff({ toString: 'x' }, {})).toEqual(diff({ removed: { toString: 'x' } }));
  });

  it('keeps the empty segment of a nested field under an empty top-level key', () => {
    // `{ "": { a: 1 } }` -> the path of the inner field is ".a" (segments ["", "a"]); "a" would
    // name the top-level field `a`.
    const d = computeDiff({ '': {} }, { '': { a: 1 } });
    expect(d).toEqual(diff({ added: { '.a': 1 } }));
    expect(applyDiff({ '': {} }, d)).toEqual({ '': { a: 1 } });
  });
});

describe('applyDiff', () => {
  it('applies added, removed and changed entries', () => {
    const before = { status: 'active', settings: { theme: 'dark' }, items: [1, 2, 3], gone: true };
    const d = diff({
      added: { 'settings.font': 'mono', 'items.3': 4 },
      removed: { gone: true },
      changed: { status: { from: 'active', to: 'ended' }, 'items.0': { from: 1, to: 0 } },
    });
    expect(applyDiff(before, d)).toEqual({ status: 'ended', settings: { theme: 'dark', font: 'mono' }, items: [0, 2, 3, 4] });
  });

  it('removes an array tail whatever order the entries come in', () => {
    const d = diff({ removed: { 'items.1': 2, 'items.2': 3, 'items.3': 4 } });
    expect(applyDiff({ items: [1, 2, 3, 4] }, d)).toEqual({ items: [1] });
  });

  it('removes every element of a shrunk array when an object with numeric keys loses keys in the same diff', () => {
    const before = { o: { 0: 1, 1: 1, a: 1 }, arr: [1, 2, 3, 4, 5] };
    const after = { o: {}, arr: [] };
    expect(applyDiff(before, computeDiff(before, after))).toEqual(after);
  });

  it('does not mutate its input and shares untouched subtrees', () => {
    const before = deepFreeze({ a: { x: 1 }, b: { y: [1, 2] }, c: [{ z: 1 }, { z: 2 }] });
    const snapshot = structuredClone(before);
    const d = diff({ changed: { 'a.x': { from: 1, to: 2 }, 'c.1.z': { from: 2, to: 3 } } });
    const after = applyDiff(before, d);
    expect(before).toEqual(snapshot);
    expect(after).toEqual({ a: { x: 2 }, b: { y: [1, 2] }, c: [{ z: 1 }, { z: 3 }] });
    expect(after).not.toBe(before);
    expect(after.a).not.toBe(before.a);
    expect(after.b).toBe(before.b);
    expect(after.b.y).toBe(before.b.y);
    expect(after.c).not.toBe(before.c);
    expect(after.c[0]).toBe(before.c[0]);
  });

  it('constructor/prototype keys are plain data and Object.prototype is never touched', () => {
    const protoBefore = prototypeKeys();
    const base: JsonObject = {};
    const out = applyDiff(base, diff({ added: { 'constructor.x': 1, prototype: { y: 2 }, 'toString.z': 3 } }));
    expect(out).toEqual({ constructor: { x: 1 }, prototype: { y: 2 }, toString: { z: 3 } });
    expect(Object.getOwnPropertyNames(out).sort()).toEqual(['constructor', 'prototype', 'toString']);
    expect(base).toEqual({});
    // A hostile diff from the wire must not reach Object.prototype either.
    const hostile = JSON.parse('{"added":{"__proto__.polluted":1,"constructor.prototype.polluted":2},"removed":{},"changed":{}}') as SyncDiff;
    applyDiff({}, hostile);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(prototypeKeys()).toEqual(protoBefore);
    expect(Object.prototype.toString).toBeTypeOf('function');
  });

  it('property: applyDiff(a, computeDiff(a, b)) deep-equals b, and leaves a as it was', () => {
    const protoBefore = prototypeKeys();
    // The empty key is left out at the top level only: nested fields under it get wrong paths
    // (see "keeps the empty segment of a nested field under an empty top-level key").
    const doc = jsonObject(trickyKey, trickyKey.filter((k) => k !== ''));
    fc.assert(
      fc.property(doc, doc, (a, b) => {
        const snapshot = structuredClone(a);
        deepFreeze(a);
        const d = computeDiff(a, b);
        expect(applyDiff(a, d)).toEqual(b);
        expect(a).toEqual(snapshot);
        // Every path in the diff parses back (escaping is consistent).
        for (const part of [d.added, d.removed, d.changed]) for (const p of Object.keys(part)) expect(() => parsePath(p)).not.toThrow();
        // The diff of a document with itself is empty.
        expect(isEmptyDiff(computeDiff(a, structuredClone(a)))).toBe(true);
      }),
      { numRuns: 1000 },
    );
    expect(prototypeKeys()).toEqual(protoBefore);
  });
});

describe('invertDiff', () => {
  it('undoes a diff: applyDiff(after, invertDiff(computeDiff(before, after))) is before', async () => {
    const { default: fc } = await import('fast-check');
    const { applyDiff, computeDiff, invertDiff } = await import('../../src/protocol/index.js');
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.dictionary(fc.constantFrom('a', 'b', 'c.d', 'e\\f', '0', ''), tie('value'), { maxKeys: 4 }),
    }));
    const doc = json.object as fc.Arbitrary<Record<string, unknown>>;
    fc.assert(
      fc.property(doc, doc, (before, after) => {
        const diff = computeDiff(before as never, after as never);
        expect(applyDiff(after, invertDiff(diff))).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });
});
