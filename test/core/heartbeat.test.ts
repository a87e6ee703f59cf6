/**
 * The client's heartbeat: the timing rule on fake timers, then against a real relay process
 * frozen with SIGSTOP — the client notices within two heartbeats, says so, and is back (and
 * writing) once the relay is thawed with SIGCONT.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../../src/core/heartbeat.js';
import { RealtimeClient } from '../../src/index.js';
import WebSocket, { WebSocketServer } from 'ws';
import { connect, eventually, opened } from '../helpers/relay.js';

describe('Heartbeat', () => {
  afterEach(() => vi.useRealTimers());

  it('pings after a silent heartbeat and declares the connection lost after a second one', () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const beat = new Heartbeat(100, () => calls.push('ping'), () => calls.push('lost'));
    beat.start();
    vi.advanceTimersByTime(99);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['ping']);
    vi.advanceTimersByTime(100);
    expect(calls).toEqual(['ping', 'lost']);
    vi.advanceTimersByTime(1000);
    expect(calls).toEqual(['ping', 'lost']); // stopped
  });

  it('never pings while frames keep coming, and a frame after the ping keeps the connection', () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    const beat = new Heartbeat(100, () => calls.push('ping'), () => calls.push('lost'));
    beat.start();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(60);
      beat.heard();
    }
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(calls).toEqual(['ping']);
    beat.heard(); // the answer
    vi.advanceTimersByTime(150);
    expect(calls).toEqual(['ping', 'ping']); // silent again: pinged again, not lost
    beat.stop();
  });

  it('refuses a heartbeat that cannot work', () => {
    expect(() => new RealtimeClient({ url: 'http://127.0.0.1:1', autoConnect: false, heartbeatMs: 0 })).toThrow(/heartbeatMs must be a positive number/);
  });
});

describe('heartbeat without reconnection', () => {
  it('a relay that stops answering closes the client, and nothing dials again', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    let connections = 0;
    wss.on('connection', (ws) => {
      connections += 1;
      // Welcomes, then never answers anything (its TCP stays up: a frozen relay, seen from here).
      ws.send(JSON.stringify({ type: 'welcome', instance: 'silent', protocol: 3, limits: { maxDocumentBytes: 262144, maxDepth: 32, maxFrameBytes: 1048576 }, user: null, expiresAt: null, expiresIn: null }));
    });
    const client = new RealtimeClient({ url: `http://127.0.0.1:${(wss.address() as { port: number }).port}`, WebSocket, reconnection: false, heartbeatMs: 100 });
    try {
      await eventually(() => client.status === 'open', 2000, 'open');
      await eventually(() => client.status === 'closed', 2000, 'closed by the heartbeat');
      expect(client.connectionError).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/stopped answering \(nothing in 200 ms\)$/) });
      await new Promise((r) => setTimeout(r, 400));
      expect(client.status).toBe('closed');
      expect(connections).toBe(1);
    } finally {
      await client.close();
      for (const ws of wss.clients) ws.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
});

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) {
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  }
});

describe('heartbeat against a frozen relay', () => {
  it('a relay stopped with SIGSTOP: reconnecting within two heartbeats, back and writing after SIGCONT', async () => {
    const relay = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', '--port', '0'], {
      env: { ...process.env, REDIS_URL: undefined, PORT: undefined, HOST: undefined, SYNCDOC_AUTH_SECRET: undefined },
    });
    children.push(relay);
    let out = '';
    relay.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => /listening on http:\/\/\S+/.test(out), 20_000, 'the relay to listen');
    const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;

    const client = await opened(connect({ url }, { heartbeatMs: 300 }));
    await client.sync.create('beats', { n: 0 }, 'doc');
    const statuses: string[] = [];
    client.on('status', (s) => statuses.push(s));

    relay.kill('SIGSTOP');
    // Two silent heartbeats (600 ms) make it lost; the bound leaves room for a slow machine.
    await eventually(() => client.status === 'reconnecting', 5000, 'the frozen relay noticed');
    expect(client.connectionError).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/stopped answering/) });

    relay.kill('SIGCONT');
    await eventually(() => client.status === 'open', 15_000, 'the thawed relay reconnected');
    expect(client.connectionError).toBeUndefined();
    await expect(client.sync.merge('beats', 'doc', { n: 1 })).resolves.toMatchObject({ revision: 2 });
    expect(statuses[0]).toBe('reconnecting');
  }, 30_000);
});
