/**
 * The dev token endpoint: it mints tokens the relay accepts with the rights asked for, refuses
 * bad input with 400 and a JSON error, and stays a loopback tool (binding, Host and Origin).
 */
import { request } from 'node:http';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TokenServer, startTokenServer } from '../../../server/dev/token-server.js';
import { SECRET } from '../../helpers/auth.js';
import { connect, opened, startRelay } from '../../helpers/relay.js';

let tokens: TokenServer;
beforeAll(async () => {
  tokens = await startTokenServer({ secret: SECRET, port: 0 });
});
afterAll(() => tokens.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** A request with the headers given (fetch would not let a test set `Host`). */
function ask(query: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  const url = new URL(`${tokens.url}${query}`);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dev token server', () => {
  it('mints a token the relay accepts, with exactly the rights asked for', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET } });
    const answer = await ask('?user=alice&grant=permissions:read');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ user: 'alice', grants: { permissions: ['read'] }, ttlSeconds: 600 });
    const token = answer.body.token as string;
    const client = await opened(connect(relay, { token }));
    expect(client.identity?.user).toBe('alice');
    await expect(client.sync.create('permissions', { title: 'x' }, 'n1')).rejects.toMatchObject({
      code: 'forbidden',
      message: 'forbidden: this token has no "write" right on permissions/n1',
    });
    const writer = await opened(connect(relay, { token: async () => (await ask('?user=bob&grant=permissions:read,write')).body.token as string }));
    await writer.sync.create('permissions', { title: 'x' }, 'n1');
    expect((await client.sync.get('permissions', 'n1')).data).toEqual({ title: 'x' });
  });

  it('takes several grants and a ttl, cut to an hour at most', async () => {
    const some = await ask('?user=alice&grant=todos:read,write&grant=session/s1:presence&ttl=30');
    expect(some.body.grants).toEqual({ todos: ['read', 'write'], 'session/s1': ['presence'] });
    const claims = decodeJwt(some.body.token as string);
    expect(claims.sub).toBe('alice');
    expect(claims.exp! - claims.iat!).toBe(30);
    const long = await ask('?user=alice&grant=*:read&ttl=86400');
    expect(long.body.ttlSeconds).toBe(3600);
    const jwt = decodeJwt(long.body.token as string);
    expect(jwt.exp! - jwt.iat!).toBe(3600);
  });

  it.each([
    ['no user', '?grant=permissions:read', /one user/],
    ['an empty user', '?user=&grant=permissions:read', /one user/],
    ['two users', '?user=a&user=b', /one user/],
    ['a grant without rights separator', '?user=alice&grant=permissions', /scope:rights/],
    ['an unknown right', '?user=alice&grant=permissions:admin', /bad grant/],
    ['a malformed scope', '?user=alice&grant=a.b:read', /bad grant/],
    ['a bad ttl', '?user=alice&ttl=soon', /ttl must be/],
    ['a zero ttl', '?user=alice&ttl=0', /ttl must be/],
    ['an unknown parameter', '?user=alice&grants=permissions:read', /unknown parameter "grants"/],
  ])('answers 400 with a JSON error for %s', async (_what, query, message) => {
    const answer = await ask(query);
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body.error).toMatch(message);
    expect(answer.body.token).toBeUndefined();
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    expect((await ask('/../other?user=alice')).status).toBe(404);
    expect((await ask('?user=alice', {}, 'POST')).status).toBe(405);
  });

  it('gives CORS access to loopback origins only', async () => {
    const local = await ask('?user=alice&grant=*:read', { origin: 'http://localhost:6006' });
    expect(local.status).toBe(200);
    expect(local.headers['access-control-allow-origin']).toBe('http://localhost:6006');
    const preflight = await ask('?user=alice', { origin: 'http://127.0.0.1:6006' }, 'OPTIONS');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://127.0.0.1:6006');
    const foreign = await ask('?user=alice&grant=*:read', { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(foreign.body.token).toBeUndefined();
    const tricky = await ask('?user=alice&grant=*:read', { origin: 'http://localhost.evil.example' });
    expect(tricky.status).toBe(403);
    const none = await ask('?user=alice&grant=*:read');
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses requests for another host name (DNS rebinding)', async () => {
    const answer = await ask('?user=alice&grant=*:read', { host: `evil.example:${tokens.port}` });
    expect(answer.status).toBe(403);
    expect(answer.body.token).toBeUndefined();
    expect((await ask('?user=alice&grant=*:read', { host: `localhost:${tokens.port}` })).status).toBe(200);
  });

  it('refuses to bind anything but loopback, or to start without a real secret', async () => {
    await expect(startTokenServer({ secret: SECRET, port: 0, host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
    await expect(startTokenServer({ secret: SECRET, port: 0, host: '192.168.1.10' })).rejects.toThrow(/loopback only/);
    await expect(startTokenServer({ secret: 'short', port: 0 })).rejects.toThrow(/at least 32 bytes/);
    const other = await startTokenServer({ secret: SECRET, port: 0, host: 'localhost' });
    expect(other.url).toMatch(/^http:\/\/localhost:\d+\/token$/);
    await other.close();
  });

  it('says when its port is taken', async () => {
    await expect(startTokenServer({ secret: SECRET, port: tokens.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
