/**
 * Several relays over one Redis: events cross relays through Redis pub/sub, and a write resent
 * after its connection was cut before the answer is applied once, whichever relay gets it.
 */
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { SyncDocument, SyncEvent } from '../../src/index.js';
import { eventChannel } from '../../server/store/redis-keys.js';
import { connect, eventually, freshPrefix, opened, redisUrl, startRelay } from '../helpers/relay.js';

/** A raw WebSocket to a relay, past its welcome frame, with a queue of incoming messages. */
async function rawSocket(url: string): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'));
  const inbox: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => inbox.push(JSON.parse(String(data)) as Record<string, unknown>));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = async () => {
    await eventually(() => inbox.length > 0, 5000, 'a frame from the relay');
    return inbox.shift()!;
  };
  expect((await next()).type).toBe('welcome');
  return { ws, next };
}

describe('several relays over one Redis', () => {
  it('a subscriber on relay 2 sees writes made on relay 1, and the other way round', async () => {
    const keyPrefix = freshPrefix();
    const r1 = await startRelay('redis', { keyPrefix });
    const r2 = await startRelay('redis', { keyPrefix });
    const c1 = await opened(connect(r1));
    const c2 = await opened(connect(r2));
    const on2: SyncEvent[] = [];
    const on1: SyncEvent[] = [];
    c2.on('event', (e) => on2.push(e));
    c1.on('event', (e) => on1.push(e));
    c2.subscribe({ topic: 'sync.session.*', returnMode: 'both' });
    c1.subscribe({ topic: 'sync.session.updated' });
    await Promise.all([c1.request({ type: 'ping' }), c2.request({ type: 'ping' })]);
    const doc = await c1.sync.create('session', { status: 'active' });
    await c2.sync.merge('session', doc.id, { status: 'ended' });
    await eventually(() => on2.length === 2 && on1.length === 1, 5000, 'events on both relays');
    expect(on2.map((e) => e.metadata.operation)).toEqual(['create', 'merge']);
    expect(on2[1]!.payload.diff?.changed).toEqual({ status: { from: 'active', to: 'ended' } });
    expect(on1[0]!.payload.data).toEqual({ status: 'ended' });
  });

  it('a relay subscribes to Redis events only while it has subscribers', async () => {
    const keyPrefix = freshPrefix();
    const relay = await startRelay('redis', { keyPrefix });
    const redis = new Redis(redisUrl());
    const listeners = async () => ((await redis.call('PUBSUB', 'NUMSUB', eventChannel(keyPrefix))) as [string, number])[1];
    try {
      const writer = connect(relay);
      const { id } = await writer.sync.create('session', { n: 0 });
      expect(await listeners()).toBe(0); // writes alone need no events

      const watcher = await opened(connect(relay));
      const seen: SyncEvent[] = [];
      watcher.on('event', (e) => seen.push(e));
      const sub = watcher.subscribe({ topic: 'sync.session.updated' });
      // The frame after a subscribe runs once events flow: this write's event is not missed.
      await watcher.sync.merge('session', id, { n: 1 });
      expect(await listeners()).toBe(1);
      await eventually(() => seen.length === 1, 5000, 'the event of the write after subscribe');

      watcher.unsubscribe(sub);
      await watcher.request({ type: 'ping' });
      await eventually(async () => (await listeners()) === 0, 5000, 'the relay to unsubscribe after its grace');
      const again = watcher.subscribe({ topic: 'sync.session.updated' });
      await watcher.sync.merge('session', id, { n: 2 });
      await eventually(() => seen.length === 2, 5000, 'events after subscribing again');
      expect(seen.map((e) => e.metadata.revision)).toEqual([2, 3]);
      watcher.unsubscribe(again);
    } finally {
      redis.disconnect();
    }
  });

  it('relays on another key prefix see nothing of these documents', async () => {
    const r1 = await startRelay('redis', { keyPrefix: freshPrefix() });
    const r2 = await startRelay('redis', { keyPrefix: freshPrefix() });
    const c2 = await opened(connect(r2));
    const seen: SyncEvent[] = [];
    c2.on('event', (e) => seen.push(e));
    c2.subscribe({ topic: 'sync.*.*' });
    await c2.request({ type: 'ping' });
    const c1 = connect(r1);
    const { id } = await c1.sync.create('session', {});
    await c1.sync.merge('session', id, { a: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
    await expect(c2.sync.get('session', id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a write resent on relay 2 after its socket to relay 1 was cut before the answer is applied once', async () => {
    const keyPrefix = freshPrefix();
    const r1 = await startRelay('redis', { keyPrefix });
    const r2 = await startRelay('redis', { keyPrefix });
    const reader = connect(r2);
    const { id } = await reader.sync.create('session', { count: 0 }, 'resend-target');
    const frame = JSON.stringify({
      type: 'mutate',
      rid: 7,
      service: 'session',
      id,
      mutationId: 'm_resend_1',
      ops: [{ op: 'increment', path: 'count', value: 1 }],
    });
    const first = await rawSocket(r1.url);
    await new Promise<void>((resolve, reject) => first.ws.send(frame, (err) => (err ? reject(err) : resolve())));
    first.ws.terminate(); // cut: the relay receives the write but its answer has nowhere to go
    // Wait until relay 1 has applied it, as seen through relay 2.
    let applied: SyncDocument | undefined;
    for (let i = 0; i < 200 && (applied?.revision ?? 1) < 2; i++) {
      applied = await reader.sync.get('session', id);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(applied).toMatchObject({ revision: 2, data: { count: 1 } });
    const second = await rawSocket(r2.url);
    second.ws.send(frame);
    const answer = await second.next();
    expect(answer).toMatchObject({ type: 'result', rid: 7, result: { revision: 2, data: { count: 1 } } });
    second.ws.close();
    expect(await reader.sync.get('session', id)).toMatchObject({ revision: 2, data: { count: 1 } });
  });

  it('a client whose connection drops mid-write resends it after reconnecting, and it is applied once', async () => {
    const keyPrefix = freshPrefix();
    const r1 = await startRelay('redis', { keyPrefix });
    const client = await opened(connect(r1));
    const { id } = await client.sync.create('session', { count: 0 });
    const writes = Array.from({ length: 10 }, () => client.sync.mutate('session', id, [{ op: 'increment', path: 'count', value: 1 }]));
    client.reconnect(); // the socket drops with the writes sent and their answers in flight
    const results = await Promise.all(writes);
    expect(results.map((r) => r.revision).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(await client.sync.get('session', id)).toMatchObject({ revision: 11, data: { count: 10 } });
  });

  it('catch-up through another relay returns the diffs written while the first relay was down', async () => {
    const keyPrefix = freshPrefix();
    const r1 = await startRelay('redis', { keyPrefix });
    const r2 = await startRelay('redis', { keyPrefix });
    const a = connect(r1);
    const { id } = await a.sync.create('session', { n: 0 });
    await r1.close();
    const b = connect(r2);
    await b.sync.merge('session', id, { n: 1 });
    await b.sync.merge('session', id, { n: 2, extra: true });
    const missed = await b.catchUp('session', id, 1);
    expect(missed).toMatchObject({ revision: 3 });
    expect('changes' in missed && missed.changes.map((c) => c.diff)).toEqual([
      { added: {}, removed: {}, changed: { n: { from: 0, to: 1 } } },
      { added: { extra: true }, removed: {}, changed: { n: { from: 1, to: 2 } } },
    ]);
  });

  it('when the relay loses its Redis subscription, its clients are asked to reconnect (and so catch up)', async () => {
    const relay = await startRelay('redis', { keyPrefix: freshPrefix() });
    const client = await opened(connect(relay));
    const statuses: string[] = [];
    client.on('status', (s) => statuses.push(s));
    client.subscribe({ topic: 'sync.session.*' }); // the relay subscribes to Redis for it
    await client.request({ type: 'ping' });
    const admin = new Redis(redisUrl());
    try {
      // Only this relay's subscriber: other test files share this Redis.
      const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      const line = list.split('\n').find((l) => l.includes(`name=syncdoc:${relay.store.instance}:sub`));
      const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
      expect(id).toBeDefined();
      await admin.call('CLIENT', 'KILL', 'ID', id!);
    } finally {
      admin.disconnect();
    }
    await eventually(() => statuses.includes('reconnecting') && client.status === 'open', 10_000, 'a reconnect');
    const doc = await client.sync.create('session', { after: 'gap' });
    expect(doc.revision).toBe(1);
  });
});
