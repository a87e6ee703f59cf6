/**
 * The document cache's state machine without a network: the fake transport lets each test
 * choose when requests run, when answers arrive and which events arrive (late, twice, never).
 */
import { describe, expect, it } from 'vitest';
import { DocumentCache } from '../../src/core/document-cache.js';
import type { DocumentSnapshot } from '../../src/core/document-entry.js';
import { SyncError } from '../../src/index.js';
import type { JsonObject } from '../../src/protocol/index.js';
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
});

export type { FakeTransport };
