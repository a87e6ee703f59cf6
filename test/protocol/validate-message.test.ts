import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, FrameError, SyncError, assertDocumentData, parseClientMessage } from '../../src/protocol/index.js';
import { invalidOf } from './arbitraries.js';

const parse = (frame: unknown) => parseClientMessage(typeof frame === 'string' ? frame : JSON.stringify(frame), DEFAULT_LIMITS);

/** The FrameError a frame is refused with. */
function refused(frame: unknown): FrameError {
  try {
    parse(frame);
  } catch (err) {
    expect(err).toBeInstanceOf(FrameError);
    const fe = err as FrameError;
    expect(fe.error).toBeInstanceOf(SyncError);
    expect(fe.error.code).toBe('invalid');
    expect(fe.error.status).toBe(400);
    expect(fe.message).toBe(fe.error.message);
    return fe;
  }
  throw new Error(`expected ${JSON.stringify(frame)} to be refused`);
}


/** `{ k: { k: ... {} } }`, `levels` objects deep ({} is 1). */
function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) v = { k: v };
  return v;
}

const doc = { service: 'session', id: 'doc_1' };

describe('parseClientMessage accepts every message type', () => {
  it('create, with and without id and mutationId', () => {
    expect(parse({ type: 'create', rid: 1, service: 'session', data: { a: 1 } })).toEqual({ type: 'create', rid: 1, service: 'session', data: { a: 1 } });
    expect(parse({ type: 'create', rid: 2, service: 's', id: 'x-1_Y', data: {}, mutationId: 'm_1' })).toEqual({
      type: 'create',
      rid: 2,
      service: 's',
      id: 'x-1_Y',
      data: {},
      mutationId: 'm_1',
    });
  });

  it('get, replace, merge, delete', () => {
    expect(parse({ type: 'get', rid: 1, ...doc })).toEqual({ type: 'get', rid: 1, ...doc });
    expect(parse({ type: 'replace', rid: 1, ...doc, data: { a: [1] }, expectedRevision: 3, mutationId: 'm' })).toEqual({
      type: 'replace',
      rid: 1,
      ...doc,
      data: { a: [1] },
      expectedRevision: 3,
      mutationId: 'm',
    });
    expect(parse({ type: 'merge', rid: 1, ...doc, data: { a: null } })).toEqual({ type: 'merge', rid: 1, ...doc, data: { a: null } });
    expect(parse({ type: 'delete', rid: 1, ...doc, expectedRevision: 0 })).toEqual({ type: 'delete', rid: 1, ...doc, expectedRevision: 0 });
  });

  it('mutate, normalizing its ops', () => {
    expect(
      parse({
        type: 'mutate',
        rid: 7,
        ...doc,
        ops: [{ op: 'set', path: 'a.b', value: 1 }, { op: 'increment', path: 'n' }, { op: 'remove', path: 'x' }, { op: 'append', path: 'l', value: {} }],
      }),
    ).toEqual({
      type: 'mutate',
      rid: 7,
      ...doc,
      ops: [
        { op: 'set', path: 'a.b', value: 1 },
        { op: 'increment', path: 'n', value: 1 },
        { op: 'remove', path: 'x' },
        { op: 'append', path: 'l', value: {} },
      ],
    });
  });

  it('subscribe, unsubscribe, catchup, ping', () => {
    expect(parse({ type: 'subscribe', rid: 1, sub: 'sub_1', topic: 'sync.session.*' })).toEqual({ type: 'subscribe', rid: 1, sub: 'sub_1', topic: 'sync.session.*' });
    expect(parse({ type: 'subscribe', rid: 1, sub: 's', topic: 'a', filter: { id: 'x', n: 1, b: true, z: null }, returnMode: 'diff' })).toEqual({
      type: 'subscribe',
      rid: 1,
      sub: 's',
      topic: 'a',
      filter: { id: 'x', n: 1, b: true, z: null },
      returnMode: 'diff',
    });
    for (const returnMode of ['full', 'both']) expect(parse({ type: 'subscribe', rid: 1, sub: 's', topic: 'a', returnMode })).toMatchObject({ returnMode });
    expect(parse({ type: 'unsubscribe', rid: 1, sub: 'sub_1' })).toEqual({ type: 'unsubscribe', rid: 1, sub: 'sub_1' });
    expect(parse({ type: 'catchup', rid: 1, ...doc, since: 0 })).toEqual({ type: 'catchup', rid: 1, ...doc, since: 0 });
    expect(parse({ type: 'ping', rid: 9007199254740991 })).toEqual({ type: 'ping', rid: 9007199254740991 });
  });

  it('an incarnation on replace, merge, mutate, delete and catchup', () => {
    const incarnation = 'k3v9q0a1b2c4';
    const ops = [{ op: 'set', path: 'a', value: 1 }];
    for (const frame of [
      { type: 'replace', rid: 1, ...doc, data: {}, incarnation },
      { type: 'merge', rid: 1, ...doc, data: {}, incarnation, expectedRevision: 2 },
      { type: 'mutate', rid: 1, ...doc, ops, incarnation },
      { type: 'delete', rid: 1, ...doc, incarnation },
      { type: 'catchup', rid: 1, ...doc, since: 3, incarnation },
    ]) {
      expect(parse(frame), frame.type).toEqual(frame);
    }
    // Older documents' incarnations ('c' + createdAt) and the longest allowed.
    for (const ok of ['c1733300000000', 'A-z_0', 'x'.repeat(64)]) expect(parse({ type: 'delete', rid: 1, ...doc, incarnation: ok })).toMatchObject({ incarnation: ok });
    // Absent stays absent.
    expect(parse({ type: 'catchup', rid: 1, ...doc, since: 0 })).not.toHaveProperty('incarnation');
  });
});

describe('parseClientMessage refuses bad frames with FrameError', () => {
  it('rid is null when the frame has no usable rid', () => {
    for (const frame of ['', 'not json', '{"type":', 'null', '[]', '1', '"str"', '[{"type":"ping","rid":1}]']) expect(refused(frame).rid).toBeNull();
    for (const rid of [undefined, null, 0, -1, 1.5, '1', true, 2 ** 53, NaN]) expect(refused({ type: 'ping', rid }).rid).toBeNull();
  });

  it('carries the rid when the frame had one', () => {
    const bad: Array<Record<string, unknown>> = [
      { type: 'nope' },
      {},
      { type: 'get', service: 'session' },
      { type: 'get', ...doc, service: 'bad service' },
      { type: 'get', ...doc, service: 'x'.repeat(65) },
      { type: 'get', ...doc, id: 'a/b' },
      { type: 'get', ...doc, id: 'x'.repeat(129) },
      { type: 'create', service: 'session', id: 'bad id', data: {} },
      { type: 'create', service: 'session' },
      { type: 'create', service: 'session', data: [] },
      { type: 'create', service: 'session', data: null },
      { type: 'create', service: 'session', data: 'x' },
      { type: 'create', service: 'session', data: {}, mutationId: 'bad id' },
      { type: 'create', service: 'session', data: {}, mutationId: '' },
      { type: 'replace', ...doc, data: { a: 1 }, expectedRevision: -1 },
      { type: 'replace', ...doc, data: { a: 1 }, expectedRevision: 1.5 },
      { type: 'replace', ...doc, data: { a: 1 }, expectedRevision: '1' },
      { type: 'replace', ...doc },
      { type: 'merge', ...doc, data: [1] },
      { type: 'mutate', ...doc },
      { type: 'mutate', ...doc, ops: [] },
      { type: 'mutate', ...doc, ops: {} },
      { type: 'mutate', ...doc, ops: [{ op: 'bad', path: 'a' }] },
      { type: 'mutate', ...doc, ops: [{ op: 'set', path: '', value: 1 }] },
      { type: 'mutate', ...doc, ops: [{ op: 'set', path: 'a' }] },
      { type: 'mutate', ...doc, ops: [{ op: 'increment', path: 'a', value: '2' }] },
      { type: 'mutate', ...doc, ops: [{ op: 'set', path: 'a.__proto__', value: 1 }] },
      { type: 'mutate', ...doc, ops: Array.from({ length: 1001 }, () => ({ op: 'remove', path: 'a' })) },
      { type: 'delete', ...doc, expectedRevision: null },
      { type: 'subscribe', sub: 'sub 1', topic: 'a' },
      { type: 'subscribe', topic: 'a' },
      { type: 'subscribe', sub: 's', topic: 'a.b*' },
      { type: 'subscribe', sub: 's', topic: 'a..b' },
      { type: 'subscribe', sub: 's', topic: '' },
      { type: 'subscribe', sub: 's' },
      { type: 'subscribe', sub: 's', topic: 'a', returnMode: 'partial' },
      { type: 'subscribe', sub: 's', topic: 'a', filter: { a: { b: 1 } } },
      { type: 'subscribe', sub: 's', topic: 'a', filter: [1] },
      { type: 'unsubscribe' },
      { type: 'catchup', ...doc },
      { type: 'catchup', ...doc, since: -1 },
    ];
    for (const incarnation of ['', 'a/b', 'has space', 'é', 'x'.repeat(65), 7, null, true, ['a'], { a: 1 }]) {
      bad.push({ type: 'merge', ...doc, data: {}, incarnation }, { type: 'delete', ...doc, incarnation }, { type: 'catchup', ...doc, since: 0, incarnation });
    }
    bad.forEach((frame, i) => {
      const rid = 100 + i;
      expect(refused({ ...frame, rid }).rid, JSON.stringify(frame).slice(0, 120)).toBe(rid);
    });
  });

  it('refuses a bad incarnation with a message that says what one must be', () => {
    expect(refused({ type: 'replace', rid: 1, ...doc, data: {}, incarnation: 'a/b' }).message).toBe(
      'incarnation must be 1 to 64 characters of A-Za-z0-9_-, got "a/b"',
    );
    expect(refused({ type: 'mutate', rid: 1, ...doc, ops: [{ op: 'remove', path: 'a' }], incarnation: 'x'.repeat(65) }).message).toBe(
      'incarnation must be 1 to 64 characters of A-Za-z0-9_-, got 65 characters',
    );
    expect(refused({ type: 'catchup', rid: 1, ...doc, since: 0, incarnation: null }).message).toBe('incarnation must be 1 to 64 characters of A-Za-z0-9_-, got null');
    expect(refused({ type: 'delete', rid: 1, ...doc, incarnation: 12 }).message).toBe('incarnation must be 1 to 64 characters of A-Za-z0-9_-, got number');
  });

  it('refuses __proto__ in data (an own key, as JSON.parse makes it) with the rid', () => {
    const frame = '{"type":"replace","rid":5,"service":"s","id":"d","data":{"a":{"__proto__":{"polluted":1}}}}';
    expect(refused(frame).rid).toBe(5);
    expect(refused('{"type":"merge","rid":6,"service":"s","id":"d","data":{"__proto__":{}}}').rid).toBe(6);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses data nested deeper than the limit', () => {
    expect(parse({ type: 'create', rid: 1, service: 's', data: nested(32) })).toMatchObject({ type: 'create' });
    expect(refused({ type: 'create', rid: 3, service: 's', data: nested(33) }).rid).toBe(3);
  });
});

describe('assertDocumentData', () => {
  const check = (data: unknown) => assertDocumentData(data, { maxDepth: 32 });

  it('accepts plain JSON objects, including null-prototype ones and constructor keys', () => {
    check({});
    check({ a: [1, 'x', true, null, { b: [] }], constructor: { prototype: 1 } });
    check(Object.assign(Object.create(null) as object, { a: 1 }));
  });

  it('refuses an own __proto__ key at any depth', () => {
    invalidOf(() => check(JSON.parse('{"__proto__":{}}')));
    invalidOf(() => check(JSON.parse('{"a":{"b":{"__proto__":1}}}')));
    invalidOf(() => check(JSON.parse('{"a":[{"__proto__":null}]}')));
  });

  it('refuses nesting deeper than maxDepth (the top level is depth 1, arrays count)', () => {
    check(nested(32));
    invalidOf(() => check(nested(33)));
    let arrays: unknown = [];
    for (let i = 2; i < 32; i++) arrays = [arrays];
    check({ a: arrays });
    invalidOf(() => check({ a: [arrays] }));
    invalidOf(() => assertDocumentData(nested(4), { maxDepth: 3 }));
    // Hostile depth does not blow the stack.
    invalidOf(() => check(nested(100_000)));
  });

  it('refuses a top level that is not a plain object', () => {
    for (const v of [null, undefined, 1, 'x', true, [], [{}], new Date(), new Map(), new (class Foo {})()]) invalidOf(() => check(v));
  });

  it('refuses non-plain objects and non-JSON values inside', () => {
    class Point {
      x = 1;
    }
    const bad: unknown[] = [new Date(), new Map(), new Set(), new Point(), /re/, new Uint8Array(1), NaN, Infinity, -Infinity, undefined, () => 1, Symbol('s'), 10n];
    for (const v of bad) {
      invalidOf(() => check({ v }));
      invalidOf(() => check({ a: [v] }));
    }
  });
});
