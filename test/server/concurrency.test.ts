/**
 * Concurrency: racing writers lose nothing, expectedRevision admits exactly one winner, and
 * every subscriber sees each revision once, in order. On Redis, the writers and subscribers are
 * spread over two relays sharing one Redis.
 */
import { describe, expect, it } from 'vitest';
import { type RealtimeClient, SyncError } from '../../src/index.js';
import { STORES, connect, eventually, freshPrefix, opened, startRelay } from '../helpers/relay.js';
import type { Relay } from '../../server/index.js';

async function relays(kind: (typeof STORES)[number]): Promise<Relay[]> {
  if (kind === 'memory') return [await startRelay('memory')];
  const keyPrefix = freshPrefix();
  return [await startRelay('redis', { keyPrefix }), await startRelay('redis', { keyPrefix })];
}

/** Subscribes to one document's events and records their revisions. */
async function watch(client: RealtimeClient, service: string, id: string): Promise<number[]> {
  const seen: number[] = [];
  client.on('event', (e) => {
    if (e.metadata.id === id) seen.push(e.metadata.revision);
  });
  client.subscribe({ topic: `sync.${service}.*`, filter: { id }, returnMode: 'diff' });
  await client.request({ type: 'ping' });
  return seen;
}

describe.each(STORES)('concurrency (%s store)', (kind) => {
  it('50 concurrent merges from 5 clients end at revision 51 with every field; events arrive in order, once', async () => {
    const rs = await relays(kind);
    const clients = await Promise.all(Array.from({ length: 5 }, (_, i) => opened(connect(rs[i % rs.length]!))));
    const watchers = await Promise.all(Array.from({ length: 4 }, (_, i) => opened(connect(rs[i % rs.length]!))));
    const { id } = await clients[0]!.sync.create('race', { start: true });
    const seen = await Promise.all(watchers.map((w) => watch(w, 'race', id)));
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => clients[i % 5]!.sync.merge('race', id, { [`f${i}`]: i, nested: { [`n${i}`]: i } })),
    );
    const doc = await clients[1]!.sync.get('race', id);
    expect(doc.revision).toBe(51);
    for (let i = 0; i < 50; i++) {
      expect(doc.data[`f${i}`]).toBe(i);
      expect((doc.data.nested as Record<string, number>)[`n${i}`]).toBe(i);
    }
    const expected = Array.from({ length: 50 }, (_, i) => i + 2);
    await eventually(() => seen.every((s) => s.length >= 50), 10_000, 'every watcher to see 50 events');
    for (const s of seen) expect(s).toEqual(expected);
  });

  it('20 racing replaces with the same expectedRevision: exactly one wins, 19 conflict', async () => {
    const rs = await relays(kind);
    const clients = await Promise.all(Array.from({ length: 4 }, (_, i) => opened(connect(rs[i % rs.length]!))));
    const { id } = await clients[0]!.sync.create('race', { winner: null });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => clients[i % 4]!.sync.replace('race', id, { winner: i }, 1)),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const o of lost) {
      expect(o.reason).toBeInstanceOf(SyncError);
      expect(o.reason).toMatchObject({ code: 'conflict', status: 409, revision: 2 });
    }
    const doc = await clients[0]!.sync.get('race', id);
    expect(doc.revision).toBe(2);
    expect(doc.data).toEqual((won[0] as PromiseFulfilledResult<{ data: unknown }>).value.data);
  });

  it('concurrent increments from many clients add up exactly', async () => {
    const rs = await relays(kind);
    const clients = await Promise.all(Array.from({ length: 5 }, (_, i) => opened(connect(rs[i % rs.length]!))));
    const { id } = await clients[0]!.sync.create('race', { count: 0 });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => clients[i % 5]!.sync.mutate('race', id, [{ op: 'increment', path: 'count', value: 1 }])),
    );
    expect(await clients[0]!.sync.get('race', id)).toMatchObject({ revision: 101, data: { count: 100 } });
  });
});
