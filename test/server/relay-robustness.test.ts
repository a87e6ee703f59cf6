/**
 * The relay under hostile or failing conditions: sockets that reset mid-upgrade, peers that
 * never answer a close, and a Redis that goes away.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SyncError } from '../../src/index.js';
import { createMemoryStore, createRelay } from '../../server/index.js';
import { startLocalRedis } from '../../server/dev/local-redis.js';
import { connect, eventually, opened, startRelay } from '../helpers/relay.js';

describe('relay robustness', () => {
  it('runs frames sent after a subscribe only once the store listens, and answers a failed listen with its error', async () => {
    const store = createMemoryStore();
    const order: string[] = [];
    let release!: () => void;
    let fail = false;
    store.listen = async (wanted) => {
      if (!wanted) return;
      if (fail) throw new SyncError('unavailable', 'Redis is unreachable: test');
      await new Promise<void>((r) => (release = r));
      order.push('listening');
    };
    const relay = await startRelay('memory', { store });
    const client = await opened(connect(relay));
    client.subscribe({ topic: 'sync.session.*' });
    const created = client.sync.create('session', { a: 1 }).then(() => order.push('create answered'));
    await eventually(() => release !== undefined, 5000, 'the relay to ask the store to listen');
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual([]); // the create waits behind the subscribe
    release();
    await created;
    expect(order).toEqual(['listening', 'create answered']);

    fail = true;
    const errors: SyncError[] = [];
    client.on('error', (e) => errors.push(e));
    client.subscribe({ topic: 'sync.order.*' });
    await eventually(() => errors.length === 1, 5000, 'the failed subscribe to be reported');
    expect(errors[0]).toMatchObject({ code: 'unavailable' });
  });

  it('leaves no subscription behind when a socket closes while its subscribes wait for the store', async () => {
    const store = createMemoryStore();
    const calls: boolean[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    store.listen = async (wanted) => {
      calls.push(wanted);
      if (wanted) await held;
    };
    const relay = await startRelay('memory', { store });
    const ws = new WebSocket(relay.url.replace(/^http/, 'ws'));
    await new Promise((r) => ws.once('open', r));
    // The first subscribe waits for the store; the second waits behind it. Then the socket goes.
    for (const [rid, sub] of [[1, 's1'], [2, 's2']] as const) ws.send(JSON.stringify({ type: 'subscribe', rid, sub, topic: 'sync.x.*' }));
    await eventually(() => calls.length === 1, 5000, 'the first subscribe to reach the store');
    ws.terminate();
    await new Promise((r) => setTimeout(r, 50));
    release();
    await new Promise((r) => setTimeout(r, 50));
    // The index emptied: the relay told the store it no longer wants events, and nothing after.
    expect(calls.at(-1)).toBe(false);
    expect(calls.filter((w) => w)).toHaveLength(1);
  });

  it('survives a client that resets its connection while its token is being verified', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const relay = await startRelay('memory', {
      auth: { verify: async () => (calls++ === 0 && (await gate), { user: 'u', grants: { '*': ['read', 'write'] } }) },
    });
    const ws = new WebSocket(relay.url.replace(/^http/, 'ws'));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', rid: 1, token: 't' }));
    await eventually(() => calls === 1, 5000, 'verify to be called');
    (ws as unknown as { _socket: net.Socket })._socket.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 50));
    release();
    // Still serving, and the reset connection took no place of its user.
    const client = await opened(connect(relay, { token: 't' }));
    await expect(client.sync.create('s', { ok: true })).resolves.toMatchObject({ revision: 1 });
    expect(relay.connections).toBe(1);
  });

  it('closes promptly even when a peer never answers the close handshake', async () => {
    const relay = await createRelay({ port: 0, log: () => {} });
    const socket = net.connect(relay.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await eventually(() => relay.connections === 1);
    socket.pause(); // reads nothing, answers nothing
    await relay.close(); // without the grace period this takes ws's 30 s close timeout
    expect(relay.connections).toBe(0);
    socket.destroy();
  }, 10_000);

  it('answers 503 unavailable (not a crash, not 500) while its Redis is gone', async () => {
    const redis = await startLocalRedis({ log: () => {} });
    const relay = await createRelay({ port: 0, redis: redis.url, log: () => {} });
    try {
      const client = await opened(connect(relay));
      const { id } = await client.sync.create('s', { n: 1 });
      await redis.stop();
      const err = await client.sync.merge('s', id, { n: 2 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SyncError);
      expect(err).toMatchObject({ code: 'unavailable', status: 503 });
    } finally {
      await relay.close();
      await redis.stop();
    }
  });
});
