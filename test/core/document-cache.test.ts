/**
 * The document cache's state machine without a network: the fake transport lets each test
 * choose when requests run, when answers arrive and which events arrive (late, twice, never).
 * The `create` option is also tested over a real relay on both stores, with a store wrapper
 * that holds back `get` answers where a test needs a precise order.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DocumentCache } from '../../src/core/document-cache.js';
import type { DocumentEntry, DocumentSnapshot } from '../../src/core/document-entry.js';
import { type RealtimeClient, type SyncEvent, SyncError, increment } from '../../src/index.js';
import type { JsonObject, SyncDocument } from '../../src/protocol/index.js';
import { type Relay, type Store, createMemoryStore, createRedisStore } from '../../server/index.js';
import { STORES, type StoreKind, connect, eventually, freshPrefix, opened, redisUrl, startRelay } from '../helpers/relay.js';
import { FakeServer, type FakeTransport, drain, settle } from './fake-transport.js';

type Doc = { a?: number; b?: { deep: number }; list?: number[]; note?: string; [k: string]: unknown };

async function setup(initial: Doc = { a: 1, b: { deep: 1 } }) {
  const server = new FakeServer();
  await server.store.create('doc', 'd1', initial as JsonObject);
  const t = server.connect();
  const cache = new DocumentCache(t, { gcTime: 20 });
  const { entry, actions } = cache.document<Doc>('doc', 'd1');
  const seen: DocumentSnapshot[] = [];
  const unsubscribe = entry.subscribe(() => seen.push(entry.getSnapshot()));
  await drain(t);
  return { server, t, cache, entry, actions, seen, unsubscribe, snap: () => entry.getSnapshot() as DocumentSnapshot<Doc> };
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as SyncError);

describe('document cache', () => {
  it('loads the document: loading, then ready at the server revision', async () => {
    const server = new FakeServer();
    await server.store.create('doc', 'd1', { a: 1 });
    const t = server.connect();
    const { entry } = new DocumentCache(t).document('doc', 'd1');
    entry.subscribe(() => {});
    expect(entry.getSnapshot()).toMatchObject({ status: 'loading', data: undefined });
    await drain(t);
    expect(entry.getSnapshot()).toMatchObject({ status: 'ready', data: { a: 1 }, revision: 1, pending: 0 });
  });

  it('rebases several pending writes over an incoming remote diff', async () => {
    const { server, t, actions, snap } = await setup({ a: 1, b: { deep: 1 } });
    const w1 = actions.merge({ note: 'local' });
    const w2 = actions.update((d) => void (d.a = (d.a ?? 0) + 10));
    expect(snap()).toMatchObject({ pending: 2, data: { a: 11, note: 'local' }, revision: 1 });
    // A remote write lands first on the server; its event arrives before our answers.
    await server.store.merge('doc', 'd1', { b: { deep: 2 }, a: 5 });
    t.deliver();
    await settle();
    expect(snap()).toMatchObject({ revision: 2, pending: 2, data: { a: 15, b: { deep: 2 }, note: 'local' } });
    await drain(t);
    await Promise.all([w1, w2]);
    expect(snap()).toMatchObject({ pending: 0, revision: 4, data: { a: 15, b: { deep: 2 }, note: 'local' } });
    expect((await server.store.get('doc', 'd1')).data).toEqual(snap().data);
  });

  it('rolls back only the failing middle write; the others stay and land', async () => {
    const { server, t, actions, snap } = await setup({ a: 1 });
    const first = actions.merge({ x: 1 });
    const middle = failure(actions.replace({ replaced: true }, 1)); // stale once the first lands
    const last = actions.merge({ y: 2 });
    expect(snap().data).toEqual({ replaced: true, y: 2 });
    await drain(t);
    await first;
    const err = await middle;
    expect(err).toBeInstanceOf(SyncError);
    expect(err).toMatchObject({ code: 'conflict' });
    await last;
    expect(snap()).toMatchObject({ pending: 0, data: { a: 1, x: 1, y: 2 } });
    expect((await server.store.get('doc', 'd1')).data).toEqual({ a: 1, x: 1, y: 2 });
  });

  it('a revision gap triggers catch-up instead of a silent skip', async () => {
    const { server, t, snap } = await setup({ a: 1 });
    await server.store.merge('doc', 'd1', { a: 2 });
    await server.store.merge('doc', 'd1', { a: 3, c: true });
    t.inbox.splice(0, 1); // revision 2's event is lost
    t.deliver(); // revision 3 arrives: a gap
    await settle();
    expect(snap().revision).toBe(1);
    expect(t.outbox.map((c) => c.message.type)).toEqual(['catchup']);
    await drain(t);
    expect(snap()).toMatchObject({ revision: 3, data: { a: 3, c: true } });
  });

  it('drops duplicate and stale events', async () => {
    const { server, t, snap, seen } = await setup({ a: 1 });
    await server.store.merge('doc', 'd1', { a: 2 });
    const event = t.inbox[0]!;
    t.deliver();
    await settle();
    const after = snap();
    const notifications = seen.length;
    t.redeliver(event);
    t.redeliver(event);
    await settle();
    expect(snap()).toBe(after);
    expect(seen.length).toBe(notifications);
    expect(snap()).toMatchObject({ revision: 2, data: { a: 2 } });
  });

  it('recognizes its own write echoed back before the answer, and does not apply it twice', async () => {
    const { t, actions, snap } = await setup({ a: 1 });
    const inc = actions.update((d) => void (d.a = (d.a ?? 0) + 1));
    expect(snap().data).toMatchObject({ a: 2 });
    await t.process(); // the relay applies it and publishes the event
    t.deliver(); // the echo arrives first
    await settle();
    expect(snap()).toMatchObject({ revision: 2, pending: 0, data: { a: 2 } });
    t.answer(); // then the answer
    const doc = await inc;
    expect(doc).toMatchObject({ revision: 2, data: { a: 2 } });
    expect(snap()).toMatchObject({ revision: 2, pending: 0, data: { a: 2 } });
  });

  it('keeps untouched subtrees identical across a diff, and the snapshot object across no-ops', async () => {
    const { server, t, snap } = await setup({ a: 1, b: { deep: 1 }, list: [1, 2] });
    const before = snap();
    await server.store.merge('doc', 'd1', { a: 2 });
    t.deliver();
    await settle();
    const after = snap();
    expect(after).not.toBe(before);
    expect(after.data!.b).toBe(before.data!.b);
    expect(after.data!.list).toBe(before.data!.list);
    expect(Object.isFrozen(after.data)).toBe(true);
    // An event for another document changes nothing.
    await server.store.create('doc', 'other', { z: 1 });
    t.deliver();
    await settle();
    expect(snap()).toBe(after);
  });

  it('update retries its recipe on the latest state after a conflict', async () => {
    const { server, t, actions, snap } = await setup({ a: 1 });
    const inc = actions.update((d) => void (d.a = (d.a ?? 0) + 1));
    await server.store.merge('doc', 'd1', { a: 100 }); // lands before ours; its event is lost
    t.inbox.length = 0;
    await drain(t);
    expect(await inc).toMatchObject({ revision: 3, data: { a: 101 } });
    expect(snap()).toMatchObject({ revision: 3, data: { a: 101 }, pending: 0 });
  });

  it('update rolls back after its retries are used up', async () => {
    const { server, t, cache } = await setup({ a: 1 });
    const { actions, entry } = cache.document<Doc>('doc', 'd1');
    const inc = failure(actions.update((d) => void (d.a = (d.a ?? 0) + 1), { retries: 1 }));
    // Every time the write reaches the relay, someone else wrote first.
    for (let i = 0; i < 6 && t.outbox.length + t.answers.length > 0; i++) {
      const next = t.outbox[0];
      if (next?.message.type === 'mutate') await server.store.merge('doc', 'd1', { other: i });
      await t.process();
      t.answer();
      await settle();
    }
    await drain(t);
    expect(await inc).toMatchObject({ code: 'conflict' });
    expect((entry.getSnapshot().data as Doc).a).toBe(1);
  });

  it('writes made offline wait, then go out in order, each once', async () => {
    const { server, t, actions, snap } = await setup({ a: 0 });
    t.disconnect();
    const writes = [1, 2, 3].map(() => actions.update((d) => void (d.a = (d.a ?? 0) + 1)));
    expect(snap()).toMatchObject({ pending: 3, data: { a: 3 } });
    t.reconnect();
    await drain(t);
    await Promise.all(writes);
    expect(await server.store.get('doc', 'd1')).toMatchObject({ revision: 4, data: { a: 3 } });
    expect(snap()).toMatchObject({ revision: 4, pending: 0, data: { a: 3 } });
  });

  it('a write whose answer is lost in a disconnect is resent and applied once', async () => {
    const { server, t, actions, snap } = await setup({ a: 0 });
    const w = actions.mutate([{ op: 'increment', path: 'a', value: 1 }]);
    await t.process(); // applied on the server...
    t.disconnect(); // ...but the answer and the event are lost
    t.reconnect();
    await drain(t);
    expect(await w).toMatchObject({ revision: 2 });
    expect(await server.store.get('doc', 'd1')).toMatchObject({ revision: 2, data: { a: 1 } });
    expect(snap()).toMatchObject({ revision: 2, data: { a: 1 }, pending: 0 });
  });

  it('catches up after a reconnect on writes made meanwhile', async () => {
    const { server, t, snap } = await setup({ a: 0 });
    t.disconnect();
    await server.store.merge('doc', 'd1', { a: 1 });
    await server.store.merge('doc', 'd1', { a: 2 });
    t.reconnect();
    await drain(t);
    expect(snap()).toMatchObject({ revision: 3, data: { a: 2 } });
  });

  it('shows deleted after a delete event, not-found for a missing document, and creates on demand', async () => {
    const { server, t, snap } = await setup({ a: 0 });
    await server.store.delete('doc', 'd1');
    await drain(t);
    expect(snap()).toMatchObject({ status: 'deleted', data: undefined, revision: 2 });
    const cache = new DocumentCache(t);
    const missing = cache.document('doc', 'nope');
    missing.entry.subscribe(() => {});
    const made = cache.document('doc', 'made', { fresh: true });
    made.entry.subscribe(() => {});
    await drain(t);
    expect(missing.entry.getSnapshot()).toMatchObject({ status: 'not-found', error: { code: 'not_found' } });
    expect(made.entry.getSnapshot()).toMatchObject({ status: 'ready', revision: 1, data: { fresh: true } });
  });

  it('a document missing at load is loaded again after a reconnect (it may have been created meanwhile)', async () => {
    const server = new FakeServer();
    const t = server.connect();
    const { entry } = new DocumentCache(t).document('doc', 'later');
    entry.subscribe(() => {});
    await drain(t);
    expect(entry.getSnapshot()).toMatchObject({ status: 'not-found' });
    t.disconnect();
    await server.store.create('doc', 'later', { made: true }); // its event is lost: offline
    t.reconnect();
    await drain(t);
    expect(entry.getSnapshot()).toMatchObject({ status: 'ready', revision: 1, data: { made: true } });
  });

  it('logs a retry in its activity when update re-runs after a conflict', async () => {
    const { server, t, actions, entry } = await setup({ a: 1 });
    const inc = actions.update((d) => void (d.a = (d.a ?? 0) + 1));
    await server.store.merge('doc', 'd1', { a: 10 });
    t.inbox.length = 0;
    await drain(t);
    await inc;
    expect(entry.activity.getSnapshot().map((a) => a.kind)).toContain('retry');
  });

  it('releases an entry (and its subscription) a while after the last reader leaves, not before', async () => {
    const { t, cache, entry, unsubscribe } = await setup();
    expect(t.subscriptions.size).toBe(1);
    unsubscribe();
    const again = cache.document('doc', 'd1').entry.subscribe(() => {}); // back within gcTime
    await new Promise((r) => setTimeout(r, 40));
    expect(cache.size).toBe(1);
    expect(cache.document('doc', 'd1').entry).toBe(entry);
    again();
    await new Promise((r) => setTimeout(r, 40));
    expect(cache.size).toBe(0);
    expect(t.subscriptions.size).toBe(0);
  });

  it('refuses bad input with invalid and changes nothing', async () => {
    const { t, actions, snap } = await setup({ a: 1 });
    const before = snap();
    for (const p of [
      actions.replace([] as never),
      actions.merge(JSON.parse('{"__proto__": 1}') as Doc),
      actions.mutate({}),
      actions.update('not a function' as never),
      actions.replace({ a: 1 }, -1),
    ]) {
      expect(await failure(p)).toMatchObject({ code: 'invalid' });
    }
    expect(snap()).toBe(before);
    expect(t.outbox).toHaveLength(0);
  });
  it('a reader with create after a reader without: the not-found entry creates the document', async () => {
    const server = new FakeServer();
    const t = server.connect();
    const cache = new DocumentCache(t);
    const { entry } = cache.document('doc', 'fresh');
    entry.subscribe(() => {});
    await drain(t);
    expect(entry.getSnapshot()).toMatchObject({ status: 'not-found' });
    const second = cache.document('doc', 'fresh', { made: 1 });
    expect(second.entry).toBe(entry);
    second.entry.subscribe(() => {});
    expect(entry.getSnapshot()).toMatchObject({ status: 'loading', error: undefined });
    expect(t.outbox.map((c) => c.message.type)).toEqual(['create']);
    await drain(t);
    expect(entry.getSnapshot()).toMatchObject({ status: 'ready', revision: 1, data: { made: 1 } });
    // Later create data changes nothing: the document exists.
    cache.document('doc', 'fresh', { made: 2 }).entry.subscribe(() => {});
    await drain(t);
    expect(await server.store.get('doc', 'fresh')).toMatchObject({ revision: 1, data: { made: 1 } });
  });

  it('a create event held while loading is applied when the get answers not_found', async () => {
    const server = new FakeServer();
    const t = server.connect();
    const { entry } = new DocumentCache(t).document('doc', 'race');
    entry.subscribe(() => {});
    await t.process(); // the get reads: not_found; its answer waits
    await server.store.create('doc', 'race', { first: true });
    await server.store.merge('doc', 'race', { second: true });
    t.deliver(); // revisions 1 and 2 arrive while loading: held
    t.deliver();
    await settle();
    expect(entry.getSnapshot()).toMatchObject({ status: 'loading' });
    t.answer(); // then not_found
    await settle();
    expect(entry.getSnapshot()).toMatchObject({ status: 'ready', revision: 2, data: { first: true, second: true }, error: undefined });
    expect(t.busy).toBe(false); // no catch-up, no create: the held events were enough
  });

  it('a reader with create on a deleted document leaves it deleted, without a create loop', async () => {
    const server = new FakeServer();
    await server.store.create('doc', 'gone', { a: 1 });
    await server.store.delete('doc', 'gone');
    const t = server.connect();
    const cache = new DocumentCache(t);
    const { entry } = cache.document('doc', 'gone');
    entry.subscribe(() => {});
    await drain(t);
    expect(entry.getSnapshot()).toMatchObject({ status: 'not-found' }); // a get cannot tell deleted from missing
    cache.document('doc', 'gone', { a: 2 }).entry.subscribe(() => {});
    await drain(t); // throws after 200 rounds if create and get ping-pong
    expect(entry.getSnapshot()).toMatchObject({ status: 'deleted', data: undefined, revision: 2 });
    expect(await failure(server.store.get('doc', 'gone'))).toMatchObject({ code: 'not_found' });
  });

  it("a catch-up answered with a snapshot behind what the entry shows (the relay's data went back) is taken as it is", async () => {
    const { server, t, snap } = await setup({ a: 1 });
    await server.store.merge('doc', 'd1', { a: 2 });
    await server.store.merge('doc', 'd1', { a: 3 });
    await drain(t);
    expect(snap()).toMatchObject({ revision: 3, data: { a: 3 } });
    const { incarnation } = await server.store.get('doc', 'd1');
    t.disconnect();
    t.reconnect();
    await eventually(() => t.outbox.some((c) => c.message.type === 'catchup'), 2000, 'the catch-up');
    const call = t.outbox.splice(t.outbox.findIndex((c) => c.message.type === 'catchup'), 1)[0]!;
    expect(call.message).toMatchObject({ since: 3, incarnation });
    // The relay's Redis was restored from an older copy: it is at revision 1 again.
    call.resolve({ revision: 1, deleted: false, incarnation, snapshot: { a: 1 } });
    await settle();
    expect(snap()).toMatchObject({ status: 'ready', revision: 1, data: { a: 1 } });
  });

  it('a write that timed out goes again with its mutation id and is applied once, even when the first try landed', async () => {
    const { server, t, actions, snap } = await setup({ a: 1 });
    const w = actions.mutate({ a: increment(1) });
    await settle();
    const first = t.outbox[0]!;
    const mid = (first.message as { mutationId: string }).mutationId;
    await t.process(); // it lands on the store...
    t.answers.splice(0); // ...but its answer never comes back: the request times out
    first.reject(new SyncError('timeout', 'the relay did not answer mutate within 10000 ms'));
    await eventually(() => t.outbox.length === 1, 2000, 'the resend');
    expect((t.outbox[0]!.message as { mutationId: string }).mutationId).toBe(mid);
    await drain(t);
    await expect(w).resolves.toMatchObject({ revision: 2, data: { a: 2 } });
    expect(await server.store.get('doc', 'd1')).toMatchObject({ revision: 2, data: { a: 2 } }); // once
    expect(snap()).toMatchObject({ status: 'ready', revision: 2, data: { a: 2 }, pending: 0 });
  });

  it('a write that keeps timing out fails with timeout after three resends, and the document catches up to show whether it landed', async () => {
    const { server, t, actions, snap } = await setup({ a: 1 });
    const w = failure(actions.mutate({ a: increment(1) }));
    await settle();
    let call = t.outbox[0]!;
    await t.process(); // the first try lands
    t.answers.splice(0);
    for (let tries = 1; ; tries++) {
      call.reject(new SyncError('timeout', 'the relay did not answer mutate within 10000 ms'));
      if (tries === 4) break; // the first try and three resends
      await eventually(() => t.outbox.length === 1, 2000, `resend ${tries}`);
      call = t.outbox.splice(0, 1)[0]!;
    }
    const err = await w;
    expect(err).toMatchObject({ code: 'timeout' });
    await eventually(() => t.outbox.some((c) => c.message.type === 'catchup'), 2000, 'the catch-up');
    await drain(t);
    expect(await server.store.get('doc', 'd1')).toMatchObject({ revision: 2, data: { a: 2 } });
    expect(snap()).toMatchObject({ status: 'ready', revision: 2, data: { a: 2 }, pending: 0 });
  });
});

/** A store whose `get` of `id` reads at once but answers only once `release` is called. */
function holdingGets(inner: Store, id: string): { store: Store; reads: () => number; release: () => void } {
  let reads = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const get = async (service: string, docId: string): Promise<SyncDocument> => {
    if (docId !== id) return inner.get(service, docId);
    const read = inner.get(service, docId).then(
      (doc) => () => doc,
      (err: unknown) => () => {
        throw err;
      },
    );
    const answer = await read;
    reads += 1;
    await gate;
    return answer();
  };
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'get') return get;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, reads: () => reads, release };
}

/** A fresh store of `kind`, for a relay built around a wrapper of it. */
async function storeOf(kind: StoreKind): Promise<Store> {
  return kind === 'redis' ? createRedisStore({ redis: redisUrl(), keyPrefix: freshPrefix() }) : createMemoryStore();
}

describe.each(STORES)('document cache with create, over a real relay (%s store)', (kind) => {
  const SERVICE = 'note';
  let relay: Relay;
  let counter = 0;
  const uid = () => `c_${Date.now().toString(36)}_${(counter += 1)}`;
  beforeAll(async () => {
    relay = await startRelay(kind);
  });

  /** Subscribes a reader to `entry`; returns every snapshot it was shown. */
  function read(entry: DocumentEntry): DocumentSnapshot[] {
    const seen: DocumentSnapshot[] = [];
    entry.subscribe(() => seen.push(entry.getSnapshot()));
    return seen;
  }

  /** Resolves once `entry` shows `status`. */
  const until = (entry: DocumentEntry, status: DocumentSnapshot['status']) =>
    eventually(() => entry.getSnapshot().status === status, 5000, `status ${status}`);

  /** Resolves once `client` has received an event of `id` at `revision`. */
  function received(client: RealtimeClient): (id: string, revision: number) => Promise<void> {
    const events: SyncEvent[] = [];
    client.on('event', (e) => events.push(e));
    return (id, revision) =>
      eventually(() => events.some((e) => e.metadata.id === id && e.metadata.revision === revision), 5000, `event r${revision} of ${id}`);
  }

  it('a reader without create, then one with: the document is created and both see it ready at revision 1', async () => {
    const id = uid();
    const a = await opened(connect(relay));
    const cache = new DocumentCache(a);
    const first = cache.document(SERVICE, id).entry;
    const firstSeen = read(first);
    await until(first, 'not-found');
    const second = cache.document(SERVICE, id, { title: 'made' }).entry;
    expect(second).toBe(first);
    const secondSeen = read(second);
    await until(second, 'ready');
    for (const seen of [firstSeen, secondSeen]) {
      expect(seen.at(-1)).toMatchObject({ status: 'ready', revision: 1, data: { title: 'made' }, error: undefined });
    }
    expect(secondSeen.map((s) => s.status)).not.toContain('not-found');
    expect(await a.sync.get(SERVICE, id)).toMatchObject({ revision: 1, data: { title: 'made' } });
  });

  it('two clients creating with different data at once: one create wins, both show its data at revision 1', async () => {
    const id = uid();
    const held = holdingGets(await storeOf(kind), id);
    const racing = await startRelay(kind, { store: held.store });
    const [a, b] = await Promise.all([opened(connect(racing)), opened(connect(racing))]);
    const ea = new DocumentCache(a).document(SERVICE, id, { by: 'a' }).entry;
    const eb = new DocumentCache(b).document(SERVICE, id, { by: 'b' }).entry;
    read(ea);
    read(eb);
    // Both learn that the document is missing before either creates it: both send a create.
    await eventually(() => held.reads() === 2, 5000, 'both gets to read');
    held.release();
    await Promise.all([until(ea, 'ready'), until(eb, 'ready')]);
    const stored = await a.sync.get(SERVICE, id);
    expect(stored.revision).toBe(1);
    expect([{ by: 'a' }, { by: 'b' }]).toContainEqual(stored.data);
    for (const e of [ea, eb]) expect(e.getSnapshot()).toMatchObject({ status: 'ready', revision: 1, data: stored.data, pending: 0 });
  });

  it('the create event arriving before the get answers not_found brings the document: ready, not not-found', async () => {
    const id = uid();
    const held = holdingGets(await storeOf(kind), id);
    const racing = await startRelay(kind, { store: held.store });
    const a = await opened(connect(racing));
    const b = await opened(connect(racing));
    const arrived = received(a);
    const entry = new DocumentCache(a).document(SERVICE, id).entry;
    const seen = read(entry);
    await eventually(() => held.reads() === 1, 5000, 'the get to read'); // it read not_found
    await b.sync.create(SERVICE, { title: 'early' }, id);
    await arrived(id, 1); // held by the loading entry
    expect(entry.getSnapshot().status).toBe('loading');
    held.release(); // now the not_found answer
    await until(entry, 'ready');
    expect(entry.getSnapshot()).toMatchObject({ revision: 1, data: { title: 'early' }, error: undefined });
    expect(seen.map((s) => s.status)).not.toContain('not-found');
  });

  it('a deleted document stays deleted when a reader with create comes: a soft-deleted id cannot be created again', async () => {
    const id = uid();
    const a = await opened(connect(relay));
    await a.sync.create(SERVICE, { title: 'old' }, id);
    await a.sync.delete(SERVICE, id);
    const cache = new DocumentCache(a);
    const entry = cache.document(SERVICE, id).entry;
    read(entry);
    await until(entry, 'not-found');
    read(cache.document(SERVICE, id, { title: 'new' }).entry);
    await until(entry, 'deleted');
    expect(entry.getSnapshot()).toMatchObject({ status: 'deleted', data: undefined, revision: 2 });
    // A reader with create alone: deleted too.
    const b = await opened(connect(relay));
    const alone = new DocumentCache(b).document(SERVICE, id, { title: 'new' }).entry;
    read(alone);
    await until(alone, 'deleted');
    await expect(a.sync.get(SERVICE, id)).rejects.toMatchObject({ code: 'not_found' });
  });
});

export type { FakeTransport };
