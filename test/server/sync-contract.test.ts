/**
 * The Sync Client contract (SPEC "Sync Client"), run end to end — client, real WebSocket,
 * relay — on both stores. Each test names the rule it checks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type RealtimeClient, SyncError, append, increment, remove } from '../../src/index.js';
import { STORES, connect, startRelay } from '../helpers/relay.js';

/** The SyncError a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<SyncError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof SyncError)) throw new Error(`expected a SyncError, got ${String(err)}`);
  return err;
}

describe.each(STORES)('Sync Client contract (%s store)', (kind) => {
  let c: RealtimeClient;
  beforeAll(async () => {
    c = connect(await startRelay(kind));
  });

  describe('create and get', () => {
    it('starts at revision 1 and returns service, id, data', async () => {
      const doc = await c.sync.create('session', { status: 'active', participantCount: 0 });
      expect(doc).toMatchObject({ service: 'session', revision: 1, data: { status: 'active', participantCount: 0 } });
      expect(await c.sync.get('session', doc.id)).toMatchObject({ revision: 1, data: doc.data });
    });

    it('generates collision-resistant ids doc_ + at least 8 URL-safe characters', async () => {
      const ids = await Promise.all(Array.from({ length: 50 }, () => c.sync.create('session', {}).then((d) => d.id)));
      for (const id of ids) expect(id).toMatch(/^doc_[A-Za-z0-9_-]{8,}$/);
      expect(new Set(ids).size).toBe(50);
    });

    it('takes a custom id', async () => {
      const doc = await c.sync.create('session', { status: 'active' }, 'my-custom-id');
      expect(doc.id).toBe('my-custom-id');
    });

    it('refuses to create an id that exists with 409 conflict', async () => {
      await c.sync.create('session', { a: 1 }, 'dup-id');
      const err = await rejection(c.sync.create('session', { a: 2 }, 'dup-id'));
      expect(err).toMatchObject({ status: 409, code: 'conflict' });
      expect(err.message).toContain('conflict');
      expect((await c.sync.get('session', 'dup-id')).data).toEqual({ a: 1 });
    });

    it('answers 404 not_found for a missing document', async () => {
      const err = await rejection(c.sync.get('session', 'never-made'));
      expect(err).toMatchObject({ status: 404, code: 'not_found' });
    });

    it('keeps services apart: the same id in two services is two documents', async () => {
      await c.sync.create('session', { kind: 's' }, 'shared-id');
      await c.sync.create('order', { kind: 'o' }, 'shared-id');
      expect((await c.sync.get('session', 'shared-id')).data).toEqual({ kind: 's' });
      expect((await c.sync.get('order', 'shared-id')).data).toEqual({ kind: 'o' });
    });
  });

  describe('revisions and expectedRevision', () => {
    it('adds exactly 1 per write: replace, merge, mutate, delete', async () => {
      const { id } = await c.sync.create('session', { n: 0 });
      expect((await c.sync.replace('session', id, { n: 1 })).revision).toBe(2);
      expect((await c.sync.merge('session', id, { m: 1 })).revision).toBe(3);
      expect((await c.sync.mutate('session', id, { n: increment() })).revision).toBe(4);
      await c.sync.delete('session', id);
      const log = await c.catchUp('session', id, 4);
      expect(log.revision).toBe(5);
      expect(log.deleted).toBe(true);
    });

    it('a stale expectedRevision fails with 409, "conflict" in the message, the current revision, and writes nothing', async () => {
      const { id } = await c.sync.create('session', { status: 'active' });
      await c.sync.merge('session', id, { status: 'paused' });
      for (const write of [
        () => c.sync.replace('session', id, { status: 'x' }, 1),
        () => c.sync.merge('session', id, { status: 'x' }, 1),
        () => c.sync.mutate('session', id, { status: 'x' }, 1),
        () => c.sync.delete('session', id, 1),
      ]) {
        const err = await rejection(write());
        expect(err).toMatchObject({ status: 409, code: 'conflict', revision: 2 });
        expect(err.message).toContain('conflict');
      }
      expect(await c.sync.get('session', id)).toMatchObject({ revision: 2, data: { status: 'paused' } });
    });

    it('a matching expectedRevision writes', async () => {
      const { id } = await c.sync.create('session', { status: 'active' });
      const doc = await c.sync.replace('session', id, { status: 'ended', endedAt: 1 }, 1);
      expect(doc).toMatchObject({ revision: 2, data: { status: 'ended', endedAt: 1 } });
      expect((await c.sync.mutate('session', id, { participantCount: 0 }, 2)).revision).toBe(3);
    });
  });

  describe('replace and merge', () => {
    it('replace overwrites data entirely', async () => {
      const { id } = await c.sync.create('session', { a: 1, b: { c: 2 } });
      expect((await c.sync.replace('session', id, { z: true })).data).toEqual({ z: true });
    });

    it('merge is JSON Merge Patch: objects merge deeply, arrays and scalars replace, null removes', async () => {
      const { id } = await c.sync.create('session', {
        status: 'active',
        settings: { theme: 'light', sound: { on: true, volume: 3 } },
        tags: ['a', 'b'],
        notes: 'x',
      });
      const doc = await c.sync.merge('session', id, {
        settings: { sound: { volume: 7 }, lang: 'fr' },
        tags: ['c'],
        notes: null,
        added: { deep: { x: 1, gone: null } },
      });
      expect(doc.data).toEqual({
        status: 'active',
        settings: { theme: 'light', sound: { on: true, volume: 7 }, lang: 'fr' },
        tags: ['c'],
        added: { deep: { x: 1 } },
      });
    });

    it('merge replaces a scalar with an object and an object with a scalar', async () => {
      const { id } = await c.sync.create('session', { a: 1, b: { x: 1 } });
      expect((await c.sync.merge('session', id, { a: { y: 2 }, b: 'flat' })).data).toEqual({ a: { y: 2 }, b: 'flat' });
    });
  });

  describe('mutate', () => {
    it('record form: sets fields, dot paths create missing parents, helpers increment/remove/append', async () => {
      const { id } = await c.sync.create('session', { status: 'active', participantCount: 2, old: 1, tags: ['a'] });
      const doc = await c.sync.mutate('session', id, {
        status: 'ended',
        participantCount: increment(-2),
        old: remove(),
        tags: append('b', 'c'),
        'settings.theme': 'dark',
        visits: increment(),
        log: append({ at: 1 }),
      });
      expect(doc.revision).toBe(2);
      expect(doc.data).toEqual({
        status: 'ended',
        participantCount: 0,
        tags: ['a', 'b', 'c'],
        settings: { theme: 'dark' },
        visits: 1,
        log: [{ at: 1 }],
      });
    });

    it('array form: set, remove, increment, append', async () => {
      const { id } = await c.sync.create('order', { items: [{ qty: 1 }, { qty: 2 }], total: 10 });
      const doc = await c.sync.mutate('order', id, [
        { op: 'increment', path: 'items.1.qty', value: 3 },
        { op: 'set', path: 'items.0.note', value: 'gift' },
        { op: 'append', path: 'items', value: { qty: 9 } },
        { op: 'remove', path: 'total' },
        { op: 'increment', path: 'count' },
      ]);
      expect(doc.data).toEqual({ items: [{ qty: 1, note: 'gift' }, { qty: 5 }, { qty: 9 }], count: 1 });
    });

    it('array indices: set replaces, index == length appends, remove splices', async () => {
      const { id } = await c.sync.create('order', { items: ['a', 'b', 'c'] });
      const doc = await c.sync.mutate('order', id, [
        { op: 'set', path: 'items.0', value: 'A' },
        { op: 'set', path: 'items.3', value: 'd' },
        { op: 'remove', path: 'items.1' },
      ]);
      expect(doc.data).toEqual({ items: ['A', 'c', 'd'] });
    });

    it('removing a missing field is a no-op that still counts as a write', async () => {
      const { id } = await c.sync.create('session', { a: 1 });
      const doc = await c.sync.mutate('session', id, { 'nope.deeper': remove() });
      expect(doc).toMatchObject({ revision: 2, data: { a: 1 } });
    });

    it('an operation that cannot apply fails the whole call with 400 invalid and writes nothing', async () => {
      const { id } = await c.sync.create('session', { name: 'x', count: 1, list: [1], obj: { k: 1 } });
      const cases = [
        [{ op: 'set', path: 'count', value: 5 }, { op: 'increment', path: 'name', value: 1 }],
        [{ op: 'set', path: 'fresh.deep', value: 1 }, { op: 'append', path: 'obj', value: 1 }],
        [{ op: 'append', path: 'list', value: 2 }, { op: 'set', path: 'list.5', value: 1 }],
        [{ op: 'set', path: 'name.inner', value: 1 }],
      ] as const;
      for (const ops of cases) {
        const err = await rejection(c.sync.mutate('session', id, ops));
        expect(err).toMatchObject({ status: 400, code: 'invalid' });
      }
      expect(await c.sync.get('session', id)).toMatchObject({ revision: 1, data: { name: 'x', count: 1, list: [1], obj: { k: 1 } } });
    });

    it('keys with dots are reached with escapes', async () => {
      const { id } = await c.sync.create('session', { 'a.b': { c: 1 } });
      const doc = await c.sync.mutate('session', id, { 'a\\.b.c': 2 });
      expect(doc.data).toEqual({ 'a.b': { c: 2 } });
    });

    it('refuses empty mutations and unknown operations', async () => {
      const { id } = await c.sync.create('session', {});
      expect(await rejection(c.sync.mutate('session', id, {}))).toMatchObject({ code: 'invalid' });
      expect(await rejection(c.sync.mutate('session', id, [{ op: 'explode', path: 'a' }] as never))).toMatchObject({ code: 'invalid' });
    });
  });

  describe('delete', () => {
    it('is soft: later reads and writes answer 404, the id stays taken, the revision is bumped', async () => {
      const { id } = await c.sync.create('session', { a: 1 });
      await expect(c.sync.delete('session', id)).resolves.toBeUndefined();
      expect(await rejection(c.sync.get('session', id))).toMatchObject({ status: 404, code: 'not_found' });
      expect(await rejection(c.sync.merge('session', id, { a: 2 }))).toMatchObject({ status: 404, code: 'not_found' });
      expect(await rejection(c.sync.delete('session', id))).toMatchObject({ status: 404, code: 'not_found' });
      expect(await rejection(c.sync.create('session', { a: 3 }, id))).toMatchObject({ status: 409, code: 'conflict' });
      expect(await c.catchUp('session', id, 1)).toMatchObject({ revision: 2, deleted: true });
    });

    it('a missing document answers 404', async () => {
      expect(await rejection(c.sync.delete('session', 'no-such-doc'))).toMatchObject({ status: 404 });
    });

    it('a resent delete answers like the first; its mutation id on another write is refused', async () => {
      const { id } = await c.sync.create('session', { a: 1 });
      const del = { type: 'delete', service: 'session', id, mutationId: 'm_del_reuse' } as const;
      await expect(c.request(del)).resolves.toBeNull();
      await expect(c.request(del)).resolves.toBeNull();
      const reuse = rejection(c.request({ type: 'merge', service: 'session', id, data: { a: 2 }, mutationId: 'm_del_reuse' }));
      expect(await reuse).toMatchObject({ status: 400, code: 'invalid', message: expect.stringContaining('already used by a delete') });
      const recreate = rejection(c.request({ type: 'create', service: 'session', id, data: {}, mutationId: 'm_del_reuse' }));
      expect(await recreate).toMatchObject({ code: 'invalid' });
    });
  });

  describe('names', () => {
    it.each([
      ['', 'x'],
      ['has space', 'x'],
      ['s'.repeat(65), 'x'],
      ['ok', ''],
      ['ok', 'a/b'],
      ['ok', 'i'.repeat(129)],
      ['ok', 'dot.ted'],
    ])('refuses service %j / id %j with 400 invalid', async (service, id) => {
      expect(await rejection(c.sync.create(service, {}, id))).toMatchObject({ status: 400, code: 'invalid' });
      expect(await rejection(c.sync.get(service, id))).toMatchObject({ status: 400, code: 'invalid' });
    });

    it('accepts the longest valid names', async () => {
      const doc = await c.sync.create('s'.repeat(64), { ok: true }, 'i'.repeat(128));
      expect(doc.id).toHaveLength(128);
    });
  });

  describe('data', () => {
    it('must be a JSON object at the top level', async () => {
      for (const bad of [[1], 'text', 3, null, new Date(0)]) {
        expect(await rejection(c.sync.create('session', bad as never))).toMatchObject({ code: 'invalid' });
      }
    });

    it('refuses a __proto__ key anywhere, in every write', async () => {
      const { id } = await c.sync.create('session', { a: 1 });
      const top = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
      const nested = JSON.parse('{"a": {"b": [{"__proto__": 1}]}}') as Record<string, unknown>;
      for (const write of [
        () => c.sync.create('session', top),
        () => c.sync.replace('session', id, nested),
        () => c.sync.merge('session', id, top),
        () => c.sync.mutate('session', id, { '__proto__.polluted': true }),
        () => c.sync.mutate('session', id, { safe: JSON.parse('{"__proto__": 1}') }),
      ]) {
        expect(await rejection(write())).toMatchObject({ code: 'invalid' });
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((await c.sync.get('session', id)).revision).toBe(1);
    });

    it('treats constructor and prototype as plain data', async () => {
      const { id } = await c.sync.create('session', { constructor: { prototype: 1 } });
      const doc = await c.sync.merge('session', id, { constructor: { prototype: 2, name: 'x' } });
      expect(doc.data).toEqual({ constructor: { prototype: 2, name: 'x' } });
      const mutated = await c.sync.mutate('session', id, { 'constructor.prototype': increment(1) });
      expect(mutated.data).toEqual({ constructor: { prototype: 3, name: 'x' } });
      expect(Object.prototype).not.toHaveProperty('name', 'x');
    });

    it('limits nesting to 32 levels', async () => {
      const nest = (depth: number) => {
        let v: Record<string, unknown> = { leaf: 1 };
        for (let i = 1; i < depth; i++) v = { n: v };
        return v;
      };
      await expect(c.sync.create('session', nest(32))).resolves.toMatchObject({ revision: 1 });
      expect(await rejection(c.sync.create('session', nest(33)))).toMatchObject({ code: 'invalid' });
    });

    it('limits a serialized document to 256 KiB (413 too_large), for every write, writing nothing', async () => {
      const big = 'x'.repeat(256 * 1024);
      expect(await rejection(c.sync.create('session', { big }))).toMatchObject({ status: 413, code: 'too_large' });
      const { id } = await c.sync.create('session', { half: 'y'.repeat(150 * 1024) });
      expect(await rejection(c.sync.merge('session', id, { more: 'z'.repeat(150 * 1024) }))).toMatchObject({ code: 'too_large' });
      expect(await rejection(c.sync.mutate('session', id, { more: 'z'.repeat(150 * 1024) }))).toMatchObject({ code: 'too_large' });
      expect(await rejection(c.sync.replace('session', id, { big }))).toMatchObject({ code: 'too_large' });
      const after = await c.sync.get('session', id);
      expect(after.revision).toBe(1);
      expect(Object.keys(after.data)).toEqual(['half']);
    });

    it('refuses a request over the relay\'s frame limit on the client, without cutting the connection', async () => {
      const err = await rejection(c.sync.create('session', { huge: 'h'.repeat(2 * 1024 * 1024) }));
      expect(err).toMatchObject({ status: 413, code: 'too_large' });
      expect(c.status).toBe('open');
      await expect(c.sync.create('session', { small: true })).resolves.toMatchObject({ revision: 1 });
    });

    it('refuses values that are not JSON', async () => {
      for (const bad of [{ f: () => 1 }, { n: Number.NaN }, { i: Infinity }, { u: undefined }, { b: BigInt(1) }]) {
        expect(await rejection(c.sync.create('session', bad as never))).toMatchObject({ code: 'invalid' });
      }
    });

    it('refuses a bad expectedRevision', async () => {
      const { id } = await c.sync.create('session', {});
      for (const bad of [-1, 1.5, '2', Number.NaN]) {
        expect(await rejection(c.sync.replace('session', id, {}, bad as number))).toMatchObject({ code: 'invalid' });
      }
    });
  });
});

describe('relay limits are configurable', () => {
  it.each(STORES)('smaller maxDocumentBytes and maxDepth apply (%s store)', async (kind) => {
    const c = connect(await startRelay(kind, { limits: { maxDocumentBytes: 100, maxDepth: 3 } }));
    expect(await rejection(c.sync.create('session', { s: 'x'.repeat(200) }))).toMatchObject({ code: 'too_large' });
    expect(await rejection(c.sync.create('session', { a: { b: { c: {} } } }))).toMatchObject({ code: 'invalid' });
    await expect(c.sync.create('session', { a: { b: 1 } })).resolves.toMatchObject({ revision: 1 });
  });
});
