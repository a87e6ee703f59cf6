/**
 * The relay's liveness rounds over real sockets: a peer that stops answering (no pongs, no
 * frames) is cut within a few rounds, freeing its user's place; a quiet peer that answers pings
 * stays; a talking one is never pinged.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createRelay } from '../../server/index.js';
import { ALL, SECRET, tokenFor } from '../helpers/auth.js';
import { eventually, startRelay } from '../helpers/relay.js';

/** A raw socket to `url`, open; `autoPong: false` makes a peer that has silently gone away. */
async function rawSocket(url: string, autoPong = true): Promise<{ ws: WebSocket; pings: () => number; closed: () => boolean }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), { autoPong });
  let pings = 0;
  let closed = false;
  ws.on('ping', () => (pings += 1));
  ws.on('close', () => (closed = true));
  ws.on('error', () => {});
  await new Promise((r) => ws.once('open', r));
  return { ws, pings: () => pings, closed: () => closed };
}

describe('relay heartbeat', () => {
  it('cuts a peer that answers nothing, and keeps a quiet one that answers pings', async () => {
    const relay = await startRelay('memory', { heartbeatMs: 100 });
    const gone = await rawSocket(relay.url, false);
    const quiet = await rawSocket(relay.url);
    await eventually(() => gone.closed(), 2000, 'the silent peer cut');
    expect(gone.pings()).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 500)); // several more rounds
    expect(quiet.closed()).toBe(false);
    expect(quiet.pings()).toBeGreaterThanOrEqual(2);
    expect(relay.connections).toBe(1);
    quiet.ws.close();
  });

  it('never pings a peer that keeps talking', async () => {
    const relay = await startRelay('memory', { heartbeatMs: 100 });
    const talker = await rawSocket(relay.url, false);
    const timer = setInterval(() => talker.ws.send(JSON.stringify({ type: 'ping', rid: 1 })), 30);
    await new Promise((r) => setTimeout(r, 600));
    clearInterval(timer);
    expect(talker.pings()).toBe(0);
    expect(talker.closed()).toBe(false);
    talker.ws.close();
  });

  it("frees a vanished user's place, so the user can connect again", async () => {
    const relay = await startRelay('memory', { heartbeatMs: 100, auth: { secret: SECRET }, limits: { maxConnectionsPerUser: 1 } });
    const token = await tokenFor('ann', ALL);
    const gone = await rawSocket(relay.url, false);
    gone.ws.send(JSON.stringify({ type: 'auth', rid: 1, token }));
    await eventually(() => relay.connections === 1, 1000, 'the first connection');
    await eventually(() => gone.closed(), 2000, 'the vanished connection cut');
    const again = await rawSocket(relay.url);
    const welcome = new Promise<unknown>((r) => again.ws.once('message', (d) => r(JSON.parse(String(d)))));
    again.ws.send(JSON.stringify({ type: 'auth', rid: 1, token }));
    expect(await welcome).toMatchObject({ type: 'welcome', user: 'ann' });
    again.ws.close();
  });

  it('refuses a heartbeat that cannot work', async () => {
    await expect(createRelay({ port: 0, heartbeatMs: 0, log: () => {} })).rejects.toThrow(/heartbeatMs must be a number of ms/);
  });
});
