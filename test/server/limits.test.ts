/**
 * Limits over real sockets: the write rate (every attempt either written or refused with
 * `rate_limited`, nothing in between), subscriptions per connection, connections per user, a
 * flooding socket closed after a bounded number of replies while others carry on, the origin
 * allow-list at the upgrade, and the refusal to serve a public interface without auth.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type SyncError, increment } from '../../src/index.js';
import { createRelay } from '../../server/index.js';
import { ALL, SECRET, rawExchange, tokenFor } from '../helpers/auth.js';
import { STORES, connect, eventually, opened, startRelay } from '../helpers/relay.js';

const auth = { secret: SECRET };

describe.each(STORES)('write rate (%s store)', (kind) => {
  it('writes or refuses every attempt: successes + rate_limited = attempts, final revision = 1 + successes', async () => {
    const relay = await startRelay(kind, { auth, limits: { writesPerSecond: 20, writeBurst: 10 } });
    const c = await opened(connect(relay, { token: await tokenFor('ann', ALL) }));
    await c.sync.create('session', { n: 0 }, 'counter'); // the first of the burst
    const attempts = 60;
    const outcomes = await Promise.allSettled(Array.from({ length: attempts }, () => c.sync.mutate('session', 'counter', { n: increment(1) })));
    const successes = outcomes.filter((o) => o.status === 'fulfilled').length;
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as SyncError] : []));
    for (const err of refused) {
      expect(err).toMatchObject({ code: 'rate_limited', status: 429, message: expect.stringContaining('20 per second') });
      expect(err.retryAfterMs).toBeGreaterThan(0);
    }
    expect(successes + refused.length).toBe(attempts);
    expect(successes).toBeGreaterThanOrEqual(9); // the rest of the burst, at least
    expect(refused.length).toBeGreaterThan(0);
    const doc = await relay.store.get('session', 'counter');
    expect(doc.revision).toBe(1 + successes);
    expect(doc.data).toEqual({ n: successes });
    expect(relay.refusals.write_rate).toBe(refused.length);

    // The bucket refills: after the wait it names, a write goes through.
    await new Promise((r) => setTimeout(r, Math.max(...refused.map((e) => e.retryAfterMs!))));
    await expect(c.sync.mutate('session', 'counter', { n: increment(1) })).resolves.toMatchObject({ revision: 2 + successes });
  });
});

describe('connection limits', () => {
  it('refuses subscriptions past the limit with rate_limited, keeping the ones held', async () => {
    const relay = await startRelay('memory', { limits: { maxSubscriptions: 3 } });
    const frames = [1, 2, 3, 4].map((rid) => ({ type: 'subscribe', rid, sub: `s${rid}`, topic: `sync.svc${rid}.*`, returnMode: 'full' }));
    const raw = await rawExchange(relay.url, [...frames, { type: 'unsubscribe', rid: 5, sub: 's1' }, { ...frames[3], rid: 6 }], 300);
    const answer = (rid: number) => raw.messages.find((m) => 'rid' in m && m.rid === rid);
    for (const rid of [1, 2, 3, 5, 6]) expect(answer(rid), `frame ${rid}`).toMatchObject({ type: 'result' });
    expect(answer(4)).toMatchObject({ type: 'error', error: { code: 'rate_limited', message: 'a connection may hold at most 3 subscriptions' } });
    expect(relay.refusals.subscriptions).toBe(1);
  });

  it('caps the connections of one user (4429), not of others, and frees a place when one closes', async () => {
    const relay = await startRelay('memory', { auth, limits: { maxConnectionsPerUser: 2 } });
    const ann = await tokenFor('ann', ALL);
    const first = await opened(connect(relay, { token: ann }));
    await opened(connect(relay, { token: ann }));
    const third = await rawExchange(relay.url, [{ type: 'auth', rid: 1, token: ann }]);
    expect(third.messages[0]).toMatchObject({ type: 'error', rid: 1, error: { code: 'rate_limited', message: 'user "ann" already holds 2 connections, the most allowed' } });
    expect(third.close?.code).toBe(4429);
    expect(relay.refusals.connections_per_user).toBe(1);
    // Another user is not affected.
    const bob = await opened(connect(relay, { token: await tokenFor('bob', ALL) }));
    expect(bob.identity).toMatchObject({ user: 'bob' });
    // A client over the cap is told why, and keeps trying: once a place frees, it gets in.
    const waiting = connect(relay, { token: ann });
    await eventually(() => waiting.connectionError?.code === 'rate_limited', 3000, 'the over-cap client told why');
    await first.close();
    await opened(waiting);
    expect(waiting.connectionError).toBeUndefined();
    await expect(waiting.sync.create('session', { ok: true }, 'after-cap')).resolves.toMatchObject({ revision: 1 });
  });

  it('closes a flooding socket (1008) after a bounded number of replies, while another client writes on', async () => {
    const limits = { framesPerSecond: 50, frameBurst: 50, maxRateRefusals: 10 };
    const relay = await startRelay('memory', { limits });
    const other = await opened(connect(relay));
    await other.sync.create('session', { n: 0 }, 'steady');
    const flooding = new WebSocket(relay.url.replace(/^http/, 'ws'));
    const replies: unknown[] = [];
    flooding.on('message', (d) => replies.push(JSON.parse(String(d))));
    const closed = new Promise<number>((resolve) => flooding.on('close', (code) => resolve(code)));
    await new Promise((r) => flooding.once('open', r));
    const sent = 5000;
    for (let rid = 1; rid <= sent; rid++) flooding.send(JSON.stringify({ type: 'ping', rid }));
    // Meanwhile the other connection writes, one after another; every write lands.
    const writes = 50;
    for (let i = 0; i < writes; i++) await other.sync.mutate('session', 'steady', { n: increment(1) });
    expect(await closed).toBe(1008);
    const limited = replies.filter((m) => (m as { error?: { code: string } }).error?.code === 'rate_limited');
    // The welcome, the burst's answers, then at most maxRateRefusals + 1 refusals: bounded, whatever was sent.
    expect(replies.length).toBeLessThanOrEqual(1 + limits.frameBurst + 2 + limits.maxRateRefusals + 1);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.length).toBeLessThanOrEqual(limits.maxRateRefusals + 1);
    expect(relay.refusals.flood).toBe(1);
    // The relay stopped reading it, so it never hears the close answered: it cuts the socket
    // instead of holding it for the 30 s close timeout.
    await eventually(() => relay.connections === 1, 3000, 'the flooding socket cut');
    expect((await relay.store.get('session', 'steady')).data).toEqual({ n: writes });
    expect(other.status).toBe('open');
  });
});

describe('origins and anonymous binding', () => {
  /** The status of a WebSocket upgrade from `origin`: 101 when it opens, else the HTTP status. */
  function upgrade(url: string, origin: string | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url.replace(/^http/, 'ws'), origin === undefined ? {} : { origin });
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('error', (err) => reject(err));
    });
  }

  it('refuses browser origins not on the allow-list at the upgrade (403), and counts them', async () => {
    const relay = await startRelay('memory', { allowedOrigins: ['https://app.example.com', 'http://localhost:6006/'] });
    expect(await upgrade(relay.url, 'https://evil.example.com')).toBe(403);
    expect(await upgrade(relay.url, 'https://app.example.com.evil.test')).toBe(403);
    expect(await upgrade(relay.url, 'https://app.example.com')).toBe(101);
    expect(await upgrade(relay.url, 'http://localhost:6006')).toBe(101); // a trailing slash in the option is forgiven
    expect(await upgrade(relay.url, undefined)).toBe(101); // no Origin: not a browser, not affected
    expect(relay.refusals.origin).toBe(2);
  });

  it('refuses to listen on a public interface without auth, unless allowAnonymous', async () => {
    await expect(createRelay({ host: '0.0.0.0', port: 0, log: () => {} })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without auth/);
    await expect(createRelay({ host: '::', port: 0, log: () => {} })).rejects.toThrow(/without auth/);
    const lines: string[] = [];
    const open = await createRelay({ host: '0.0.0.0', port: 0, allowAnonymous: true, log: (l) => lines.push(l) });
    await open.close();
    expect(lines).toContain('no auth configured: every connection may read and write every document');
    const authed = await createRelay({ host: '0.0.0.0', port: 0, auth, log: () => {} });
    await authed.close();
  });
});
