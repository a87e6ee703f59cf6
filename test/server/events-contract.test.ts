/**
 * The Events contract (SPEC "Events"), end to end on both stores: topics per operation, the
 * three return modes, diff paths, wildcard topics, filters, ordering and catch-up.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type RealtimeClient, type SyncEvent, applyDiff, append, increment, remove } from '../../src/index.js';
import { STORES, connect, eventually, opened, startRelay } from '../helpers/relay.js';
import type { Relay } from '../../server/index.js';

/** Subscribes and collects events; resolves once the relay has acknowledged the subscription. */
async function collect(client: RealtimeClient, options: Parameters<RealtimeClient['subscribe']>[0]): Promise<SyncEvent[]> {
  const events: SyncEvent[] = [];
  client.on('event', (e) => events.push(e));
  client.subscribe(options);
  await client.request({ type: 'ping' }); // answered after the subscribe frame sent before it
  return events;
}

describe.each(STORES)('Events contract (%s store)', (kind) => {
  let relay: Relay;
  let writer: RealtimeClient;
  let service = 0;
  /** A fresh service per test, so subscriptions of one test see only their own events. */
  const svc = () => `ev${kind}${++service}`;
  beforeAll(async () => {
    relay = await startRelay(kind);
    writer = await opened(connect(relay));
  });

  it('each write publishes one event on sync.<service>.created|updated|deleted with its metadata', async () => {
    const s = svc();
    const events = await collect(connect(relay), { topic: `sync.${s}.*` });
    const { id, incarnation } = await writer.sync.create(s, { a: 1 });
    await writer.sync.replace(s, id, { a: 2 });
    await writer.sync.merge(s, id, { b: 1 });
    await writer.sync.mutate(s, id, { a: increment() });
    await writer.sync.delete(s, id);
    await eventually(() => events.length === 5, 5000, '5 events');
    expect(events.map((e) => [e.topic, e.metadata.operation, e.metadata.revision])).toEqual([
      [`sync.${s}.created`, 'create', 1],
      [`sync.${s}.updated`, 'replace', 2],
      [`sync.${s}.updated`, 'merge', 3],
      [`sync.${s}.updated`, 'mutate', 4],
      [`sync.${s}.deleted`, 'delete', 5],
    ]);
    expect(incarnation).toMatch(/^[0-9a-v]{12}$/);
    for (const e of events) {
      expect(e.source).toBe('sync');
      expect(e.metadata).toMatchObject({ service: s, id, incarnation });
      expect(typeof e.metadata.timestamp).toBe('number');
      expect(typeof e.metadata.mutationId).toBe('string');
    }
    expect(events[4]!.payload.data).toEqual({ a: 3, b: 1 });
  });

  it('returnMode full (the default) sends data only, diff sends diff only, both sends both', async () => {
    const s = svc();
    const full = await collect(connect(relay), { topic: `sync.${s}.updated` });
    const diff = await collect(connect(relay), { topic: `sync.${s}.updated`, returnMode: 'diff' });
    const both = await collect(connect(relay), { topic: `sync.${s}.updated`, returnMode: 'both' });
    const { id } = await writer.sync.create(s, { status: 'active', n: 1 });
    await writer.sync.merge(s, id, { status: 'ended' });
    await eventually(() => full.length + diff.length + both.length === 3, 5000, 'one event per mode');
    const expectedDiff = { added: {}, removed: {}, changed: { status: { from: 'active', to: 'ended' } } };
    expect(full[0]!.payload).toEqual({ data: { status: 'ended', n: 1 } });
    expect(diff[0]!.payload).toEqual({ diff: expectedDiff });
    expect(both[0]!.payload).toEqual({ data: { status: 'ended', n: 1 }, diff: expectedDiff });
  });

  it('diff paths: bare top-level names, dot-joined nesting, array indices, escaped keys, type changes', async () => {
    const s = svc();
    const events = await collect(connect(relay), { topic: `sync.${s}.updated`, returnMode: 'diff' });
    const { id } = await writer.sync.create(s, {
      status: 'active',
      settings: { theme: 'light', old: true },
      items: ['a', 'b', 'c'],
      short: [1, 2, 3],
      'dotted.key': 1,
      'back\\slash': { x: 1 },
      kind: { was: 'object' },
    });
    await writer.sync.replace(s, id, {
      status: 'ended',
      settings: { theme: 'dark', added: 1 },
      items: ['a', 'B', 'c', 'd', 'e'],
      short: [1],
      'dotted.key': 2,
      'back\\slash': { x: 2 },
      kind: 'scalar',
    });
    await eventually(() => events.length === 1);
    expect(events[0]!.payload.diff).toEqual({
      added: { 'settings.added': 1, 'items.3': 'd', 'items.4': 'e' },
      removed: { 'settings.old': true, 'short.1': 2, 'short.2': 3 },
      changed: {
        status: { from: 'active', to: 'ended' },
        'settings.theme': { from: 'light', to: 'dark' },
        'items.1': { from: 'b', to: 'B' },
        'dotted\\.key': { from: 1, to: 2 },
        'back\\\\slash.x': { from: 1, to: 2 },
        kind: { from: { was: 'object' }, to: 'scalar' },
      },
    });
  });

  it('diffs of merge and mutate describe exactly what changed, and applyDiff rebuilds the document', async () => {
    const s = svc();
    const events = await collect(connect(relay), { topic: `sync.${s}.*`, returnMode: 'both' });
    const { id } = await writer.sync.create(s, { a: { b: 1, c: [1, 2] }, list: [1, 2, 3], n: 1, gone: 'x' });
    await writer.sync.merge(s, id, { a: { b: 2, d: { e: 1 } }, gone: null });
    await writer.sync.mutate(s, id, { n: increment(4), 'list.0': remove(), 'a.c': append(3), 'new.deep.path': true });
    await eventually(() => events.length === 3);
    expect(events[1]!.payload.diff).toEqual({
      added: { 'a.d': { e: 1 } },
      removed: { gone: 'x' },
      changed: { 'a.b': { from: 1, to: 2 } },
    });
    expect(events[2]!.payload.diff).toEqual({
      added: { 'a.c.2': 3, new: { deep: { path: true } } },
      removed: { 'list.2': 3 },
      changed: { n: { from: 1, to: 5 }, 'list.0': { from: 1, to: 2 }, 'list.1': { from: 2, to: 3 } },
    });
    let data: Record<string, unknown> = {};
    for (const e of events) data = applyDiff(data, e.payload.diff!);
    expect(data).toEqual(events[2]!.payload.data);
  });

  it('created and deleted events carry diffs that add and remove every field', async () => {
    const s = svc();
    const events = await collect(connect(relay), { topic: `sync.${s}.*`, returnMode: 'diff' });
    const { id } = await writer.sync.create(s, { a: 1, b: { c: 2 } });
    await writer.sync.delete(s, id);
    await eventually(() => events.length === 2);
    expect(events[0]!.payload.diff).toEqual({ added: { a: 1, b: { c: 2 } }, removed: {}, changed: {} });
    expect(events[1]!.payload.diff).toEqual({ added: {}, removed: { a: 1, b: { c: 2 } }, changed: {} });
  });

  it('topics match exactly or with * for one segment', async () => {
    const s = svc();
    const exact = await collect(connect(relay), { topic: `sync.${s}.created` });
    const anyOp = await collect(connect(relay), { topic: `sync.${s}.*` });
    const anyService = await collect(connect(relay), { topic: 'sync.*.deleted' });
    const tooShort = await collect(connect(relay), { topic: `sync.*` });
    const { id } = await writer.sync.create(s, {});
    await writer.sync.merge(s, id, { x: 1 });
    await writer.sync.delete(s, id);
    await eventually(() => anyOp.length === 3);
    await eventually(() => anyService.some((e) => e.metadata.id === id));
    expect(exact.map((e) => e.metadata.operation)).toEqual(['create']);
    expect(anyService.filter((e) => e.metadata.id === id).map((e) => e.metadata.operation)).toEqual(['delete']);
    expect(tooShort).toEqual([]);
  });

  it('filters match id and service against metadata and other keys against top-level data after the write', async () => {
    const s = svc();
    const byId = await collect(connect(relay), { topic: `sync.${s}.*`, filter: { id: 'watched' } });
    const byField = await collect(connect(relay), { topic: `sync.${s}.updated`, filter: { status: 'ended', service: s } });
    await writer.sync.create(s, { status: 'active' }, 'watched');
    await writer.sync.create(s, { status: 'active' }, 'other');
    await writer.sync.merge(s, 'other', { status: 'ended' });
    await writer.sync.merge(s, 'watched', { note: 1 });
    await eventually(() => byId.length === 2 && byField.length === 1);
    await writer.request({ type: 'ping' });
    expect(byId.map((e) => [e.metadata.id, e.metadata.revision])).toEqual([
      ['watched', 1],
      ['watched', 2],
    ]);
    expect(byField.map((e) => e.metadata.id)).toEqual(['other']);
  });

  it('unsubscribe stops events; a connection with two matching subscriptions gets each event once', async () => {
    const s = svc();
    const client = connect(relay);
    const events = await collect(client, { topic: `sync.${s}.*`, returnMode: 'diff' });
    const second = client.subscribe({ topic: `sync.${s}.created` });
    await client.request({ type: 'ping' });
    await writer.sync.create(s, { a: 1 }, 'one');
    await eventually(() => events.length === 1);
    expect(events[0]!.payload.data).toEqual({ a: 1 }); // the union of both modes: diff + full
    expect(events[0]!.payload.diff).toBeDefined();
    client.unsubscribe(second);
    client.unsubscribe('sub_1');
    await client.request({ type: 'ping' });
    await writer.sync.create(s, { a: 2 }, 'two');
    await writer.request({ type: 'ping' });
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toHaveLength(1);
  });

  it('on("event:<topic>") delivers the events of that exact topic; the returned function stops it', async () => {
    const s = svc();
    const client = connect(relay);
    const got: number[] = [];
    const off = client.on(`event:sync.${s}.updated`, (e) => got.push(e.metadata.revision));
    client.subscribe({ topic: `sync.${s}.*` });
    await client.request({ type: 'ping' });
    const { id } = await writer.sync.create(s, { n: 0 });
    await writer.sync.merge(s, id, { n: 1 });
    await eventually(() => got.length === 1);
    off();
    await writer.sync.merge(s, id, { n: 2 });
    await writer.request({ type: 'ping' });
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([2]);
  });

  it('catch-up returns the diffs missed since a revision, or a snapshot when the log no longer has them', async () => {
    const small = await startRelay(kind, { changeLogSize: 3 });
    const c = connect(small);
    const s = svc();
    const { id } = await c.sync.create(s, { n: 0 });
    for (let i = 1; i <= 5; i++) await c.sync.merge(s, id, { n: i, [`k${i}`]: i });
    const recent = await c.catchUp(s, id, 4);
    expect(recent).toMatchObject({ revision: 6, deleted: false });
    if (!('changes' in recent)) throw new Error('expected changes');
    expect(recent.changes.map((ch) => ch.revision)).toEqual([5, 6]);
    const { data: latest, incarnation } = await c.sync.get(s, id);
    expect(recent.incarnation).toBe(incarnation);
    // The document at revision 4, plus the missed diffs, is the document at revision 6.
    let rebuilt: Record<string, unknown> = { n: 3, k1: 1, k2: 2, k3: 3 };
    for (const ch of recent.changes) rebuilt = applyDiff(rebuilt, ch.diff);
    expect(rebuilt).toEqual(latest);
    const old = await c.catchUp(s, id, 1);
    expect(old).toEqual({ revision: 6, deleted: false, incarnation, snapshot: latest });
    expect(await c.catchUp(s, id, 6)).toEqual({ revision: 6, deleted: false, incarnation, changes: [] });
  });
});
