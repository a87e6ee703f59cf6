/**
 * Incarnations (protocol 3), end to end on both stores over the bare wire: every creation of a
 * document gets a random id that its answers, events and catch-up answers carry; a write that
 * names another one is refused with `conflict`, writing nothing; a catch-up that names another
 * one (or a revision the document never reached) gets the snapshot. Then the case they exist
 * for: the relay loses the document (the memory store restarted, the Redis keys gone) and
 * someone creates it again.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../server/index.js';
import { createMemoryStore, createRedisStore } from '../../server/index.js';
import { documentKeys } from '../../server/store/redis-keys.js';
import type { Store } from '../../server/store/types.js';
import { type CatchUpResult, type SyncDocument, type SyncEvent, SyncError } from '../../src/protocol/index.js';
import { STORES, deleteKeys, freshPrefix, redisUrl, startRelay } from '../helpers/relay.js';
import { Wire } from '../helpers/wire.js';

/** What the relay makes: 12 characters of 0-9a-v. */
const FRESH = /^[0-9a-v]{12}$/;
/** An incarnation no document has (valid on the wire). */
const OTHER = 'zzzzzzzzzzzz';

/** The exact refusal of a write that names another incarnation. */
const refusal = (service: string, id: string, theirs: string, given: string, revision: number) => ({
  status: 409,
  code: 'conflict',
  message: `conflict: ${service}/${id} was created again since this write was made (incarnation ${theirs}, not ${given})`,
  revision,
});

/** The whole document an answer must be (only the clocks are not known in advance). */
const documentOf = (service: string, id: string, revision: number, incarnation: string, data: Record<string, unknown>) => ({
  service,
  id,
  revision,
  createdAt: expect.any(Number) as unknown,
  updatedAt: expect.any(Number) as unknown,
  incarnation,
  data,
});

let redis: Redis;
beforeAll(() => {
  redis = new Redis(redisUrl(), { lazyConnect: true });
});
afterAll(() => redis.quit());

/** What a Redis without persistence loses on a restart: every key under this file's own prefix. */
const loseEverything = (prefix: string) => deleteKeys(redis, prefix);

describe.each(STORES)('incarnations (%s store)', (kind) => {
  let relay: Relay;
  let prefix: string;
  let writer: Wire;
  let n = 0;
  /** A fresh service per test, so subscriptions of one test see only its own events. */
  const svc = () => `inc${kind}${++n}`;
  const create = (service: string, data: Record<string, unknown>, id?: string) =>
    writer.result<SyncDocument>({ type: 'create', service, data, ...(id !== undefined && { id }) });

  beforeAll(async () => {
    prefix = freshPrefix();
    relay = await startRelay(kind, { keyPrefix: prefix, changeLogSize: 5 });
    writer = await Wire.open(relay);
  });

  it('the relay speaks protocol 3', () => {
    expect(writer.welcome).toMatchObject({ type: 'welcome', protocol: 3 });
  });

  it('create makes a fresh incarnation; get and every write answer with the same one', async () => {
    const s = svc();
    const doc = await create(s, { n: 0 });
    expect(doc.incarnation).toMatch(FRESH);
    const inc = doc.incarnation;
    expect(doc).toEqual(documentOf(s, doc.id, 1, inc, { n: 0 }));
    const ref = { service: s, id: doc.id };
    expect(await writer.result({ type: 'get', ...ref })).toEqual(documentOf(s, doc.id, 1, inc, { n: 0 }));
    expect(await writer.result({ type: 'replace', ...ref, data: { n: 1 } })).toEqual(documentOf(s, doc.id, 2, inc, { n: 1 }));
    expect(await writer.result({ type: 'merge', ...ref, data: { m: true } })).toEqual(documentOf(s, doc.id, 3, inc, { n: 1, m: true }));
    expect(await writer.result({ type: 'mutate', ...ref, ops: [{ op: 'increment', path: 'n', value: 2 }] })).toEqual(documentOf(s, doc.id, 4, inc, { n: 3, m: true }));
    expect(await writer.result({ type: 'get', ...ref })).toEqual(documentOf(s, doc.id, 4, inc, { n: 3, m: true }));
    // Every creation makes its own.
    const others = await Promise.all(Array.from({ length: 20 }, () => create(s, {})));
    expect(new Set([inc, ...others.map((d) => d.incarnation)]).size).toBe(21);
  });

  it('every event carries it in its metadata, in full, diff and both modes', async () => {
    const s = svc();
    const modes = ['full', 'diff', 'both'] as const;
    const subscribers = await Promise.all(modes.map(() => Wire.open(relay)));
    await Promise.all(subscribers.map((w, i) => w.result({ type: 'subscribe', sub: 'sub_1', topic: `sync.${s}.*`, returnMode: modes[i] })));
    const doc = await create(s, { a: 1 });
    const ref = { service: s, id: doc.id };
    await writer.result({ type: 'merge', ...ref, data: { b: 2 }, mutationId: 'm_merge' });
    await writer.result({ type: 'mutate', ...ref, ops: [{ op: 'set', path: 'a', value: 3 }], incarnation: doc.incarnation });
    await writer.result({ type: 'delete', ...ref });
    const ops = ['create', 'merge', 'mutate', 'delete'] as const;
    for (const [i, w] of subscribers.entries()) {
      const events = await w.eventsArrived(ops.length);
      expect(events, modes[i]).toHaveLength(ops.length);
      events.forEach((e: SyncEvent, k) => {
        const metadata = { operation: ops[k], service: s, id: doc.id, revision: k + 1, timestamp: expect.any(Number), incarnation: doc.incarnation };
        expect(e.metadata, `${modes[i]} ${ops[k]}`).toEqual(ops[k] === 'merge' ? { ...metadata, mutationId: 'm_merge' } : metadata);
      });
      w.close();
    }
  });

  it('a write naming its incarnation lands; one naming another is refused with conflict, its revision and the message, and writes nothing', async () => {
    const s = svc();
    const watcher = await Wire.open(relay);
    await watcher.result({ type: 'subscribe', sub: 'sub_1', topic: `sync.${s}.*` });
    const doc = await create(s, { status: 'active' });
    const ref = { service: s, id: doc.id };
    const inc = doc.incarnation;
    expect(await writer.result({ type: 'merge', ...ref, data: { status: 'paused' }, incarnation: inc, expectedRevision: 1 })).toEqual(
      documentOf(s, doc.id, 2, inc, { status: 'paused' }),
    );
    const wrong = { incarnation: OTHER };
    for (const write of [
      { type: 'replace', ...ref, data: { status: 'x' }, ...wrong },
      { type: 'merge', ...ref, data: { status: 'x' }, ...wrong },
      { type: 'mutate', ...ref, ops: [{ op: 'set', path: 'status', value: 'x' }], ...wrong },
      { type: 'delete', ...ref, ...wrong },
      // The incarnation is checked before the revision: a stale revision of another document says nothing.
      { type: 'merge', ...ref, data: { status: 'x' }, ...wrong, expectedRevision: 1 },
      // With a mutation id never seen, and with the right revision.
      { type: 'mutate', ...ref, ops: [{ op: 'increment', path: 'n', value: 1 }], ...wrong, expectedRevision: 2, mutationId: 'm_wrong' },
    ]) {
      expect(await writer.error(write), JSON.stringify(write)).toEqual(refusal(s, doc.id, inc, OTHER, 2));
    }
    // Nothing was written: the same revision and data, and no event (the next one is the next write's).
    expect(await writer.result({ type: 'get', ...ref })).toEqual(documentOf(s, doc.id, 2, inc, { status: 'paused' }));
    await writer.result({ type: 'replace', ...ref, data: { status: 'ended' }, incarnation: inc });
    const events = await watcher.eventsArrived(3);
    expect(events.map((e) => [e.metadata.operation, e.metadata.revision, e.payload.data])).toEqual([
      ['create', 1, { status: 'active' }],
      ['merge', 2, { status: 'paused' }],
      ['replace', 3, { status: 'ended' }],
    ]);
    // The refused mutation id was not remembered: with the right incarnation it runs.
    expect(await writer.result({ type: 'mutate', ...ref, ops: [{ op: 'increment', path: 'n', value: 1 }], incarnation: inc, mutationId: 'm_wrong' })).toMatchObject({
      revision: 4,
      data: { status: 'ended', n: 1 },
    });
    // A delete naming the right incarnation deletes.
    expect(await writer.result({ type: 'delete', ...ref, incarnation: inc })).toBeNull();
    expect(await writer.error({ type: 'get', ...ref })).toMatchObject({ code: 'not_found' });
    watcher.close();
  });

  it('a remembered mutation id is answered as that write left it, incarnation included', async () => {
    const s = svc();
    const created = await writer.result<SyncDocument>({ type: 'create', service: s, id: 'resent', data: { n: 0 }, mutationId: 'm_create' });
    const inc = created.incarnation;
    const ref = { service: s, id: 'resent' };
    const first = await writer.result({ type: 'merge', ...ref, data: { n: 1 }, mutationId: 'm_once', incarnation: inc });
    await writer.result({ type: 'merge', ...ref, data: { n: 2 } });
    expect(first).toEqual(documentOf(s, 'resent', 2, inc, { n: 1 }));
    // The resend of the merge, after the document moved on: its first answer, rebuilt.
    expect(await writer.result({ type: 'merge', ...ref, data: { n: 1 }, mutationId: 'm_once', incarnation: inc })).toEqual(first);
    // The resend of the create.
    expect(await writer.result({ type: 'create', service: s, id: 'resent', data: { n: 0 }, mutationId: 'm_create' })).toEqual(documentOf(s, 'resent', 1, inc, { n: 0 }));
    // A resend is recognized before the incarnation is looked at: the write it repeats was made on this one.
    expect(await writer.result({ type: 'merge', ...ref, data: { n: 1 }, mutationId: 'm_once', incarnation: OTHER })).toEqual(first);
  });

  it('catch-up names the incarnation; another one, or a revision past the current, gets the snapshot', async () => {
    const s = svc();
    const doc = await create(s, { n: 0 });
    const ref = { service: s, id: doc.id };
    const inc = doc.incarnation;
    for (let i = 1; i <= 3; i++) await writer.result({ type: 'merge', ...ref, data: { n: i } });
    const catchUp = (since: number, incarnation?: string) =>
      writer.result<CatchUpResult>({ type: 'catchup', ...ref, since, ...(incarnation !== undefined && { incarnation }) });
    const changes = (since: number) => ({
      revision: 4,
      deleted: false,
      incarnation: inc,
      changes: Array.from({ length: 4 - since }, (_, k) => ({
        revision: since + k + 1,
        operation: 'merge',
        timestamp: expect.any(Number) as unknown,
        diff: { added: {}, removed: {}, changed: { n: { from: since + k - 1, to: since + k } } }, // revision r holds n = r - 1
      })),
    });
    const snapshot = { revision: 4, deleted: false, incarnation: inc, snapshot: { n: 3 } };
    expect(await catchUp(2)).toEqual(changes(2));
    expect(await catchUp(2, inc)).toEqual(changes(2));
    expect(await catchUp(4, inc)).toEqual({ revision: 4, deleted: false, incarnation: inc, changes: [] });
    // Changes of another incarnation would not apply to what the asker holds, whatever its revision.
    for (const since of [0, 2, 4, 9]) expect(await catchUp(since, OTHER), `since ${since}`).toEqual(snapshot);
    // A revision this document never reached: the asker holds something else.
    expect(await catchUp(5)).toEqual(snapshot);
    expect(await catchUp(50, inc)).toEqual(snapshot);
    // Deleted: the snapshot is the last data, flagged.
    await writer.result({ type: 'delete', ...ref });
    expect(await catchUp(1, OTHER)).toEqual({ revision: 5, deleted: true, incarnation: inc, snapshot: { n: 3 } });
    expect(await catchUp(4, inc)).toMatchObject({ revision: 5, deleted: true, incarnation: inc, changes: [{ revision: 5, operation: 'delete' }] });
    // A missing document is still not found.
    expect(await writer.error({ type: 'catchup', service: s, id: 'never-made', since: 0, incarnation: inc })).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('refuses malformed incarnations with invalid, writing nothing', async () => {
    const s = svc();
    const doc = await create(s, { n: 0 });
    const ref = { service: s, id: doc.id };
    for (const incarnation of ['', 'a/b', 'with space', 'x'.repeat(65), 7, null, ['a'], { a: 1 }]) {
      for (const request of [
        { type: 'replace', ...ref, data: {}, incarnation },
        { type: 'merge', ...ref, data: { n: 1 }, incarnation },
        { type: 'mutate', ...ref, ops: [{ op: 'set', path: 'n', value: 1 }], incarnation },
        { type: 'delete', ...ref, incarnation },
        { type: 'catchup', ...ref, since: 0, incarnation },
      ]) {
        const err = await writer.error(request);
        expect(err, JSON.stringify(request)).toMatchObject({ status: 400, code: 'invalid', message: expect.stringMatching(/^incarnation must be 1 to 64 characters of A-Za-z0-9_-, got /) });
      }
    }
    expect(await writer.result({ type: 'get', ...ref })).toEqual(documentOf(s, doc.id, 1, doc.incarnation, { n: 0 }));
  });

  it('a document lost and created again is another incarnation: writes and catch-ups made against the old one cannot mistake it', async () => {
    const s = svc();
    const old = await create(s, { v: 'old' }, 'phoenix');
    await writer.result({ type: 'merge', service: s, id: 'phoenix', data: { v: 'old 2' } });
    await writer.result({ type: 'merge', service: s, id: 'phoenix', data: { v: 'old 3' } });
    // The loss: a memory store restarts empty (a new relay), a Redis without persistence restarts or is flushed.
    if (kind === 'memory') {
      await relay.close();
      relay = await startRelay('memory', { changeLogSize: 5 });
      writer = await Wire.open(relay);
    } else {
      expect(await loseEverything(prefix)).toBeGreaterThanOrEqual(3); // data, head, log
      expect(await writer.error({ type: 'get', service: s, id: 'phoenix' })).toMatchObject({ code: 'not_found' });
    }
    const again = await create(s, { v: 'new' }, 'phoenix');
    expect(again).toEqual(documentOf(s, 'phoenix', 1, again.incarnation, { v: 'new' }));
    expect(again.incarnation).toMatch(FRESH);
    expect(again.incarnation).not.toBe(old.incarnation);
    // A write made against the old document is refused, naming both; nothing is written.
    expect(await writer.error({ type: 'merge', service: s, id: 'phoenix', data: { v: 'stale' }, incarnation: old.incarnation })).toEqual(
      refusal(s, 'phoenix', again.incarnation, old.incarnation, 1),
    );
    expect(await writer.result({ type: 'get', service: s, id: 'phoenix' })).toEqual(documentOf(s, 'phoenix', 1, again.incarnation, { v: 'new' }));
    // A client that held the old one at revision 3 catches up: the new document whole, never its changes.
    const snapshot = { revision: 1, deleted: false, incarnation: again.incarnation, snapshot: { v: 'new' } };
    expect(await writer.result({ type: 'catchup', service: s, id: 'phoenix', since: 3, incarnation: old.incarnation })).toEqual(snapshot);
    expect(await writer.result({ type: 'catchup', service: s, id: 'phoenix', since: 3 })).toEqual(snapshot);
    // Writes made against the new one land.
    expect(await writer.result({ type: 'merge', service: s, id: 'phoenix', data: { v: 'new 2' }, incarnation: again.incarnation })).toEqual(
      documentOf(s, 'phoenix', 2, again.incarnation, { v: 'new 2' }),
    );
  });
});

describe('incarnations of documents written before them (Redis head without inc)', () => {
  it("read as 'c' + createdAt, the same at every read, in events, answers and catch-up, and writes may name it", async () => {
    const keyPrefix = freshPrefix();
    const relay = await startRelay('redis', { keyPrefix });
    const w = await Wire.open(relay);
    await w.result({ type: 'subscribe', sub: 'sub_1', topic: 'sync.legacy.*' });
    const doc = await w.result<SyncDocument>({ type: 'create', service: 'legacy', id: 'old', data: { n: 0 } });
    // What an older relay left: a head without the field.
    const head = documentKeys(keyPrefix, 'legacy', 'old').head;
    expect(await redis.hdel(head, 'inc')).toBe(1);
    const legacy = `c${doc.createdAt}`;
    const ref = { service: 'legacy', id: 'old' };
    expect(await w.result({ type: 'get', ...ref })).toEqual(documentOf('legacy', 'old', 1, legacy, { n: 0 }));
    expect(await w.result({ type: 'get', ...ref })).toMatchObject({ incarnation: legacy });
    expect(await w.result({ type: 'merge', ...ref, data: { n: 1 }, incarnation: legacy })).toEqual(documentOf('legacy', 'old', 2, legacy, { n: 1 }));
    expect(await w.error({ type: 'merge', ...ref, data: { n: 9 }, incarnation: doc.incarnation })).toEqual(refusal('legacy', 'old', legacy, doc.incarnation, 2));
    expect(await w.result({ type: 'catchup', ...ref, since: 1, incarnation: legacy })).toMatchObject({ incarnation: legacy, changes: [{ revision: 2 }] });
    expect(await w.result({ type: 'catchup', ...ref, since: 1, incarnation: doc.incarnation })).toEqual({ revision: 2, deleted: false, incarnation: legacy, snapshot: { n: 1 } });
    const events = await w.eventsArrived(2);
    expect(events.map((e) => e.metadata.incarnation)).toEqual([doc.incarnation, legacy]);
    // Still no `inc` written: the name stays derived, so it stays the same.
    expect(await redis.hexists(head, 'inc')).toBe(0);
  });
});

describe.each(STORES)('the Store API takes and reports incarnations (%s store)', (kind) => {
  let store: Store;
  beforeAll(async () => {
    store = kind === 'memory' ? createMemoryStore() : await createRedisStore({ redis: redisUrl(), keyPrefix: freshPrefix() });
  });
  afterAll(() => store.close());

  it('checks WriteOptions.incarnation and CatchUpOptions.incarnation', async () => {
    const doc = await store.create('api', 'd1', { n: 0 });
    expect(doc.incarnation).toMatch(FRESH);
    expect((await store.get('api', 'd1')).incarnation).toBe(doc.incarnation);
    expect(await store.merge('api', 'd1', { n: 1 }, { incarnation: doc.incarnation })).toMatchObject({ revision: 2, incarnation: doc.incarnation });
    const err = await store.merge('api', 'd1', { n: 2 }, { incarnation: OTHER }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SyncError);
    expect({ ...(err as SyncError).toJSON() }).toEqual(refusal('api', 'd1', doc.incarnation, OTHER, 2));
    await expect(store.delete('api', 'd1', { incarnation: OTHER })).rejects.toMatchObject({ code: 'conflict', revision: 2 });
    expect(await store.changesSince('api', 'd1', 1, { incarnation: doc.incarnation })).toMatchObject({ incarnation: doc.incarnation, changes: [{ revision: 2 }] });
    expect(await store.changesSince('api', 'd1', 1, { incarnation: OTHER })).toEqual({ revision: 2, deleted: false, incarnation: doc.incarnation, snapshot: { n: 1 } });
    expect(await store.changesSince('api', 'd1', 3)).toEqual({ revision: 2, deleted: false, incarnation: doc.incarnation, snapshot: { n: 1 } });
    expect((await store.get('api', 'd1')).revision).toBe(2);
  });
});
