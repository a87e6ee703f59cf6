import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyncError, arrayIndex, childPath, escapeKey, formatPath, isPathAddressable, parsePath } from '../../src/protocol/index.js';

/** Runs `fn` and returns the SyncError it throws (fails the test when it throws nothing else). */
function syncErrorOf(fn: () => unknown): SyncError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SyncError);
    return err as SyncError;
  }
  throw new Error('expected a SyncError, nothing was thrown');
}

describe('parsePath', () => {
  it('splits on unescaped dots', () => {
    expect(parsePath('status')).toEqual(['status']);
    expect(parsePath('settings.theme')).toEqual(['settings', 'theme']);
    expect(parsePath('items.0.name')).toEqual(['items', '0', 'name']);
  });

  it('undoes \\. and \\\\ escapes', () => {
    expect(parsePath('a\\.b')).toEqual(['a.b']);
    expect(parsePath('a\\\\b')).toEqual(['a\\b']);
    expect(parsePath('a\\\\.b')).toEqual(['a\\', 'b']);
    expect(parsePath('x.a\\.b\\.c.y')).toEqual(['x', 'a.b.c', 'y']);
    expect(parsePath('\\\\\\.')).toEqual(['\\.']);
  });

  it('keeps empty segments', () => {
    expect(parsePath('')).toEqual(['']);
    expect(parsePath('a.')).toEqual(['a', '']);
    expect(parsePath('a..b')).toEqual(['a', '', 'b']);
  });

  it('refuses a dangling backslash with SyncError invalid', () => {
    for (const bad of ['a\\', '\\', 'a.b\\', 'a\\b', 'a\\x.c', '\\\\\\']) {
      const err = syncErrorOf(() => parsePath(bad));
      expect(err.code).toBe('invalid');
      expect(err.status).toBe(400);
    }
  });

  it('refuses a non-string path', () => {
    expect(syncErrorOf(() => parsePath(42 as unknown as string)).code).toBe('invalid');
  });
});

describe('escapeKey / formatPath / childPath', () => {
  it('escapes only . and \\', () => {
    expect(escapeKey('plain')).toBe('plain');
    expect(escapeKey('a.b')).toBe('a\\.b');
    expect(escapeKey('a\\b')).toBe('a\\\\b');
    expect(escapeKey('.\\.')).toBe('\\.\\\\\\.');
    expect(escapeKey("it's \"q\" [0] $ *")).toBe("it's \"q\" [0] $ *");
  });

  it('formats segments, numbers included', () => {
    expect(formatPath(['items', 3, 'name'])).toBe('items.3.name');
    expect(formatPath(['a.b', 'c\\d'])).toBe('a\\.b.c\\\\d');
    expect(formatPath([])).toBe('');
  });

  it('childPath appends one escaped key, the root being null ("" is the empty top-level key)', () => {
    expect(childPath(null, 'a.b')).toBe('a\\.b');
    expect(childPath('', 'a')).toBe('.a');
    expect(childPath('x', 0)).toBe('x.0');
    expect(childPath('x\\.y', 'z\\')).toBe('x\\.y.z\\\\');
  });

  it('parsePath(formatPath(segments)) round-trips, for keys with . and \\', () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('.', '\\', '\\.', '.\\', 'a.b', 'a\\b', '\\\\', '', '0', 'constructor'),
      fc.stringMatching(/^[a.\\]{0,6}$/),
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        expect(parsePath(formatPath(segments))).toEqual(segments);
      }),
      { numRuns: 500 },
    );
  });

  it('formatPath(parsePath(path)) is the identity on valid paths', () => {
    const path = fc.stringMatching(/^([a.]|\\\\|\\\.){0,10}$/);
    fc.assert(
      fc.property(path, (p) => {
        expect(formatPath(parsePath(p))).toBe(p);
      }),
      { numRuns: 300 },
    );
  });
});

describe('arrayIndex', () => {
  it('accepts canonical non-negative integers', () => {
    expect(arrayIndex('0')).toBe(0);
    expect(arrayIndex('7')).toBe(7);
    expect(arrayIndex('10')).toBe(10);
    expect(arrayIndex('123456789')).toBe(123456789);
  });

  it('refuses non-canonical forms', () => {
    for (const s of ['', '00', '01', '-1', '-0', '+1', '1.0', '1e3', ' 1', '1 ', '0x1', 'a', '1a', 'NaN', 'Infinity', '١']) {
      expect(arrayIndex(s), JSON.stringify(s)).toBeUndefined();
    }
  });

  it('is the inverse of String(n) on indices it accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), (n) => {
        expect(arrayIndex(String(n))).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 5 }), (s) => {
        const i = arrayIndex(s);
        if (i !== undefined) expect(String(i)).toBe(s);
      }),
    );
  });
});

describe('isPathAddressable', () => {
  it('accepts ordinary keys, dots and one kind of quote', () => {
    for (const k of ['a', '', 'a.b', "it's", 'say "hi"', 'constructor', '0', '日本', '[0]', '$', '*']) {
      expect(isPathAddressable(k), k).toBe(true);
    }
  });

  it('refuses keys with a backslash or with both kinds of quote', () => {
    for (const k of ['a\\b', '\\', `'"`, `it's "x"`]) expect(isPathAddressable(k), k).toBe(false);
  });
});
