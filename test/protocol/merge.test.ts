import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonValue, mergePatch } from '../../src/protocol/index.js';
import { deepFreeze, jsonValue, prototypeKeys } from './arbitraries.js';

describe('mergePatch', () => {
  // RFC 7386, Appendix A: [original, patch, result].
  const appendixA: Array<[JsonValue, JsonValue, JsonValue]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];

  it.each(appendixA)('RFC 7386 appendix A: %j + %j', (original, patch, result) => {
    deepFreeze(original);
    deepFreeze(patch);
    expect(mergePatch(original, patch)).toEqual(result);
  });

  it('null removes a key at any depth, and a null for a missing key is a no-op', () => {
    expect(mergePatch({ a: { b: { c: 1, d: 2 } } }, { a: { b: { c: null } } })).toEqual({ a: { b: { d: 2 } } });
    expect(mergePatch({ a: 1 }, { zzz: null })).toEqual({ a: 1 });
    expect(mergePatch({ a: 1 }, { a: { b: null } })).toEqual({ a: {} });
    expect(mergePatch({}, { a: { b: null, c: 1 } })).toEqual({ a: { c: 1 } });
  });

  it('arrays replace whole, with their nulls and objects kept verbatim', () => {
    expect(mergePatch({ a: [1, 2, 3] }, { a: [null, { x: null }] })).toEqual({ a: [null, { x: null }] });
    expect(mergePatch({ a: { x: 1 } }, { a: [] })).toEqual({ a: [] });
    expect(mergePatch({ a: [1] }, { a: { x: 1 } })).toEqual({ a: { x: 1 } });
  });

  it('does not mutate its inputs and shares untouched subtrees', () => {
    const target = deepFreeze({ a: { x: 1 }, b: { y: [1] }, c: 1 });
    const patch = deepFreeze({ a: { x: 2, z: null }, c: null });
    const targetCopy = structuredClone(target);
    const patchCopy = structuredClone(patch);
    const out = mergePatch(target, patch) as typeof target;
    expect(out).toEqual({ a: { x: 2 }, b: { y: [1] } });
    expect(target).toEqual(targetCopy);
    expect(patch).toEqual(patchCopy);
    expect(out.b).toBe(target.b);
  });

  it('own properties only: constructor/prototype are data, Object.prototype untouched', () => {
    const protoBefore = prototypeKeys();
    expect(mergePatch({}, { constructor: { a: 1 }, toString: 'x' })).toEqual({ constructor: { a: 1 }, toString: 'x' });
    expect(mergePatch({ constructor: { a: 1, b: 2 } }, { constructor: { a: null } })).toEqual({ constructor: { b: 2 } });
    const hostile = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}') as JsonValue;
    const out = mergePatch({}, hostile) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(prototypeKeys()).toEqual(protoBefore);
  });

  it('property: null members remove keys, others set them, unnamed keys are shared, a patch is idempotent', () => {
    const value = jsonValue();
    fc.assert(
      fc.property(value, value, (target, patch) => {
        deepFreeze(target);
        deepFreeze(patch);
        const out = mergePatch(target, patch);
        if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
          expect(out).toEqual(patch);
          return;
        }
        const patchObj = patch as Record<string, JsonValue>;
        const outObj = out as Record<string, JsonValue>;
        for (const key of Object.keys(patchObj)) {
          if (patchObj[key] === null) expect(Object.prototype.hasOwnProperty.call(outObj, key)).toBe(false);
          else expect(Object.prototype.hasOwnProperty.call(outObj, key)).toBe(true);
        }
        // Keys the patch does not name are kept as they were (same value, same identity).
        if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
          for (const key of Object.keys(target)) if (!Object.prototype.hasOwnProperty.call(patchObj, key)) expect(outObj[key]).toBe(target[key]);
          expect(mergePatch(target, {})).toEqual(target);
        }
        // Idempotence: applying the same patch again changes nothing.
        expect(mergePatch(out, patch)).toEqual(out);
      }),
      { numRuns: 500 },
    );
  });
});
