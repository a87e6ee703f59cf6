/**
 * The client facing a relay that sends frames of the wrong shape (a buggy or hostile server
 * behind the URL): each bad frame is dropped and reported as an `internal` error, a malformed
 * answer fails its request, and good frames keep working. A real `ws` server plays the relay.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { RealtimeClient, type SyncError, type SyncEvent } from '../../src/index.js';
import { isResultOf, isServerMessage } from '../../src/protocol/check-server-message.js';
import { eventually } from '../helpers/relay.js';

const WELCOME = JSON.stringify({ type: 'welcome', instance: 'fake', protocol: 3, limits: { maxDocumentBytes: 262144, maxDepth: 32, maxFrameBytes: 1048576 }, user: null, expiresAt: null, expiresIn: null });
const goodEvent = (revision: number) => ({
  type: 'event',
  event: { topic: 'sync.s.updated', source: 'sync', metadata: { operation: 'merge', service: 's', id: 'd', revision, timestamp: 1, incarnation: 'i1' }, payload: { data: { n: revision } } },
});

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A fake relay whose answers to each request come from `answer`. */
async function fakeRelay(answer: (m: { type: string; rid: number }, ws: WebSocket) => void): Promise<{ url: string; sockets: WebSocket[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    cleanup.push(() => ws.terminate());
    ws.send(WELCOME);
    ws.on('message', (raw) => answer(JSON.parse(String(raw)) as { type: string; rid: number }, ws));
  });
  cleanup.push(() => new Promise((r) => wss.close(r)));
  return { url: `http://127.0.0.1:${(wss.address() as { port: number }).port}`, sockets };
}

describe('malformed frames from the relay', () => {
  it('drops each bad frame with an internal error, and still delivers good events', async () => {
    const relay = await fakeRelay((m, ws) => ws.send(JSON.stringify({ type: 'result', rid: m.rid, result: null })));
    const client = new RealtimeClient({ url: relay.url, WebSocket, reconnection: false });
    cleanup.push(() => client.close());
    const errors: SyncError[] = [];
    const events: SyncEvent[] = [];
    client.on('error', (e) => errors.push(e));
    client.subscribe({ topic: 'sync.s.*' }, (e) => events.push(e));
    await client.request({ type: 'ping' });
    const bad = [
      'not json',
      '[1,2]',
      JSON.stringify({ type: 'surprise' }),
      JSON.stringify({ type: 'event' }),
      JSON.stringify({ type: 'event', event: { topic: 'sync.s.updated', metadata: { service: 's', id: 'd', revision: -1, operation: 'merge' }, payload: {} } }),
      JSON.stringify({ type: 'event', event: { ...goodEvent(2).event, payload: { data: [1] } } }),
      JSON.stringify({ type: 'event', event: { ...goodEvent(2).event, payload: { diff: { added: {} } } } }),
      JSON.stringify({ type: 'error', rid: 'x', error: { code: 'invalid', message: 'm' } }),
      JSON.stringify({ type: 'result' }),
    ];
    for (const frame of bad) relay.sockets[0]!.send(frame);
    relay.sockets[0]!.send(JSON.stringify(goodEvent(3)));
    await eventually(() => events.length === 1 && errors.length === bad.length, 5000, 'every bad frame reported and the good event delivered');
    expect(errors.every((e) => e.code === 'internal' && e.message === 'dropped a malformed frame from the relay')).toBe(true);
    expect(events[0]!.metadata.revision).toBe(3);
  });

  it('fails a request whose answer has the wrong shape, and keeps serving the next', async () => {
    let reply: unknown = { service: 's', id: 'd', revision: 'one', data: {} };
    const relay = await fakeRelay((m, ws) => ws.send(JSON.stringify({ type: 'result', rid: m.rid, result: reply })));
    const client = new RealtimeClient({ url: relay.url, WebSocket, reconnection: false });
    cleanup.push(() => client.close());
    await expect(client.sync.get('s', 'd')).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('malformed result') });
    reply = { service: 's', id: 'd', revision: 4, data: { ok: true }, incarnation: 'i1' };
    await expect(client.sync.get('s', 'd')).resolves.toMatchObject({ revision: 4, data: { ok: true } });
  });
});

describe('isServerMessage / isResultOf', () => {
  it('accept what the relay sends', () => {
    expect(isServerMessage(JSON.parse(WELCOME))).toBe(true);
    expect(isServerMessage(goodEvent(1))).toBe(true);
    expect(isServerMessage({ type: 'event', event: { ...goodEvent(1).event, payload: { diff: { added: {}, removed: {}, changed: {} } } } })).toBe(true);
    expect(isServerMessage({ type: 'error', rid: null, error: { status: 400, code: 'invalid', message: 'm' } })).toBe(true);
    expect(isServerMessage({ type: 'result', rid: 2, result: null })).toBe(true);
    expect(isResultOf('merge', { service: 's', id: 'd', revision: 2, data: {}, incarnation: 'i1' })).toBe(true);
    expect(isResultOf('merge', { service: 's', id: 'd', revision: 2, data: {} })).toBe(false); // no incarnation
    expect(isResultOf('delete', null)).toBe(true);
    expect(isResultOf('catchup', { revision: 3, deleted: false, incarnation: 'i1', changes: [{ revision: 3, diff: { added: {}, removed: {}, changed: {} } }] })).toBe(true);
    expect(isResultOf('catchup', { revision: 3, deleted: false, incarnation: 'i1', snapshot: {} })).toBe(true);
    expect(isResultOf('catchup', { revision: 3, deleted: false, snapshot: {} })).toBe(false); // no incarnation
  });

  it('refuse the wrong shapes', () => {
    expect(isServerMessage({ type: 'welcome' })).toBe(false);
    expect(isServerMessage({ type: 'event', event: { ...goodEvent(1).event, metadata: { service: 's', id: 'd', operation: 'merge' } } })).toBe(false);
    expect(isResultOf('merge', null)).toBe(false);
    expect(isResultOf('get', { service: 's', id: 'd', revision: 1, data: [] })).toBe(false);
    expect(isResultOf('catchup', { revision: 3, changes: [{ revision: 3 }] })).toBe(false);
    expect(isResultOf('catchup', { revision: 3 })).toBe(false);
    expect(isResultOf('ping', {})).toBe(false);
  });

  it('stops, saying why, when the relay speaks another protocol version', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    cleanup.push(() => new Promise((r) => wss.close(r)));
    let connections = 0;
    wss.on('connection', (ws) => {
      connections += 1;
      cleanup.push(() => ws.terminate());
      ws.send(JSON.stringify({ ...JSON.parse(WELCOME), protocol: 1 }));
    });
    const client = new RealtimeClient({ url: `http://127.0.0.1:${(wss.address() as { port: number }).port}`, WebSocket });
    cleanup.push(() => client.close());
    const errors: SyncError[] = [];
    client.on('error', (e) => errors.push(e));
    await eventually(() => client.status === 'closed', 3000, 'the client to stop');
    expect(client.connectionError).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/relay speaks protocol 1, this client 3/) });
    await new Promise((r) => setTimeout(r, 1500));
    expect(connections).toBe(1); // no reconnect loop
  });
});
