/**
 * RealtimeClient against a real relay: offline stays offline, subscriptions dropped while
 * offline stay dropped, per-subscription routing, listeners that unsubscribe twice, bad input.
 */
import { describe, expect, it } from 'vitest';
import { RealtimeClient, SyncError, type SyncEvent } from '../../src/index.js';
import { Emitter } from '../../src/core/emitter.js';
import { connect, eventually, opened, startRelay } from '../helpers/relay.js';

describe('RealtimeClient', () => {
  it('stays offline after disconnect() until connect(), whatever is called meanwhile', async () => {
    const relay = await startRelay('memory');
    const client = await opened(connect(relay, { requestTimeout: 300 }));
    client.disconnect();
    expect(client.status).toBe('closed');
    client.subscribe({ topic: 'sync.x.*' });
    const err = await client.sync.get('x', 'y').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'unavailable' });
    expect(client.status).toBe('closed');
    client.connect();
    await opened(client);
  });

  it('does not revive a subscription dropped while offline', async () => {
    const relay = await startRelay('memory');
    const writer = connect(relay);
    const client = await opened(connect(relay));
    const seen: SyncEvent[] = [];
    client.on('event', (e) => seen.push(e));
    client.disconnect();
    const sub = client.subscribe({ topic: 'sync.gone.*' });
    client.unsubscribe(sub);
    client.connect();
    await opened(client);
    await client.request({ type: 'ping' });
    await writer.sync.create('gone', { a: 1 });
    await writer.request({ type: 'ping' });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
  });

  it('routes each subscription its own events, in its own return mode', async () => {
    const relay = await startRelay('memory');
    const writer = connect(relay);
    const client = await opened(connect(relay));
    const full: SyncEvent[] = [];
    const paid: SyncEvent[] = [];
    client.subscribe({ topic: 'sync.orders.*' }, (e) => full.push(e));
    client.subscribe({ topic: 'sync.orders.updated', returnMode: 'diff', filter: { status: 'paid' } }, (e) => paid.push(e));
    await client.request({ type: 'ping' });
    const { id } = await writer.sync.create('orders', { status: 'open' });
    await writer.sync.merge('orders', id, { status: 'paid' });
    await writer.sync.merge('orders', id, { note: 'x' });
    await eventually(() => full.length === 3);
    await writer.request({ type: 'ping' });
    expect(full.every((e) => e.payload.data !== undefined && e.payload.diff === undefined)).toBe(true);
    expect(paid.map((e) => e.metadata.revision)).toEqual([2, 3]);
    expect(paid.every((e) => e.payload.diff !== undefined && e.payload.data === undefined)).toBe(true);
  });

  it('a throwing handler does not keep an event from the other subscriptions', async () => {
    const relay = await startRelay('memory');
    const writer = connect(relay);
    const client = await opened(connect(relay));
    const thrown: unknown[] = [];
    const onError = (err: unknown) => thrown.push(err);
    process.on('uncaughtException', onError);
    try {
      const got: number[] = [];
      client.subscribe({ topic: 'sync.iso.*' }, () => {
        throw new Error('user bug');
      });
      client.subscribe({ topic: 'sync.iso.*' }, (e) => got.push(e.metadata.revision));
      await client.request({ type: 'ping' });
      const { id } = await writer.sync.create('iso', { n: 0 });
      await writer.sync.merge('iso', id, { n: 1 });
      await eventually(() => got.length === 2);
      expect(got).toEqual([1, 2]);
      await eventually(() => thrown.length === 2);
      expect(String(thrown[0])).toMatch(/user bug/);
    } finally {
      process.off('uncaughtException', onError);
    }
  });

  it('refuses bad options and arguments with clear errors', async () => {
    expect(() => new RealtimeClient(undefined as never)).toThrow(/relay url/);
    expect(() => new RealtimeClient({ url: 'ftp://x' , WebSocket: class {} as never })).toThrow(/http\(s\) or ws\(s\)/);
    const relay = await startRelay('memory');
    const client = connect(relay);
    expect(() => client.subscribe({ topic: 'bad topic' })).toThrow(SyncError);
    expect(() => client.subscribe({ topic: 'a.*', returnMode: 'some' as never })).toThrow(/returnMode/);
    expect(() => client.on('nope' as never, () => {})).toThrow(/unknown event name/);
    await expect(client.catchUp('s', 'i', -1)).rejects.toMatchObject({ code: 'invalid' });
  });

  it('closes for good: calls after close() fail with unavailable', async () => {
    const relay = await startRelay('memory');
    const client = await opened(connect(relay));
    await client.close();
    expect(client.status).toBe('closed');
    await expect(client.sync.get('s', 'i')).rejects.toMatchObject({ code: 'unavailable' });
    expect(() => client.connect()).toThrow(SyncError);
  });
});

describe('Emitter', () => {
  it('an off() called twice removes nothing else', () => {
    const e = new Emitter<{ x: number }>();
    const got: string[] = [];
    const off = e.on('x', () => got.push('first'));
    off();
    e.on('x', () => got.push('second'));
    off();
    e.emit('x', 1);
    expect(got).toEqual(['second']);
  });
});
