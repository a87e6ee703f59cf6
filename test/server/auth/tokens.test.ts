/**
 * Tokens end to end over real sockets: every kind of bad token refused with `unauthorized`
 * before anything is written (on both stores), the welcome that says who the user is, the auth
 * deadline, expiry of an unrefreshed token, and refresh on the open socket.
 */
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { SyncError } from '../../../src/index.js';
import type { Relay } from '../../../server/index.js';
import { ALL, SECRET, rawExchange, tokenFor } from '../../helpers/auth.js';
import { STORES, connect, eventually, opened, startRelay } from '../../helpers/relay.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'syncdoc-tests';
const jwtAuth = { secret: SECRET, issuer: ISSUER, audience: AUDIENCE };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const claims = { sub: 'mallory', grants: ALL, iss: ISSUER, aud: AUDIENCE };

/** A token signed HS256 with `secret` carrying exactly `payload`. */
function signed(payload: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(secret));
}

const { publicKey: rsaPublic, privateKey: rsaPrivate } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPem = rsaPublic.export({ type: 'spki', format: 'pem' }).toString();

/** Bad tokens for a relay with {@link jwtAuth}, each with what its refusal says. */
const BAD: Array<[string, () => Promise<string | undefined>, RegExp]> = [
  ['no token', async () => undefined, /no token/],
  ['garbage', async () => 'not-a-jwt', /malformed/],
  ['a bad signature', () => signed({ ...claims, exp: now() + 60 }, 'another-secret-of-at-least-32-bytes!!'), /signature/],
  ['an expired token', () => signed({ ...claims, exp: now() - 60 }), /expired/],
  ['a wrong issuer', () => signed({ ...claims, iss: 'https://evil.test', exp: now() + 60 }), /"iss" claim/],
  ['a wrong audience', () => signed({ ...claims, aud: 'someone-else', exp: now() + 60 }), /"aud" claim/],
  ['no exp', () => signed({ ...claims }), /"exp" claim/],
  ['no sub', () => signed({ ...claims, sub: undefined, exp: now() + 60 }), /"sub" claim/],
  ['alg: none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now() + 60 })}.`, /algorithm is not accepted/],
  ['malformed grants', () => signed({ ...claims, grants: { session: 'all' }, exp: now() + 60 }), /grants are malformed/],
];

/** Refused on a raw socket and by the client; nothing written under `service`. */
async function expectRefused(relay: Relay, token: string | undefined, why: RegExp, service: string): Promise<void> {
  const raw = await rawExchange(relay.url, [
    token === undefined ? { type: 'auth', rid: 1 } : { type: 'auth', rid: 1, token },
    { type: 'create', rid: 2, service, id: 'raw', data: { stolen: true } },
  ]);
  expect(raw.messages[0]).toMatchObject({ type: 'error', rid: 1, error: { code: 'unauthorized', status: 401, message: expect.stringMatching(why) } });
  expect(raw.messages.some((m) => m.type === 'welcome' || m.type === 'result')).toBe(false);
  expect(raw.close?.code).toBe(4401);
  if (token) expect(JSON.stringify(raw)).not.toContain(token.slice(-20)); // never echoed

  const client = connect(relay, token === undefined ? {} : { token });
  const started = Date.now();
  const err = (await client.sync.create(service, { stolen: true }, 'client').catch((e: unknown) => e)) as SyncError;
  expect(err).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(why) });
  expect(Date.now() - started).toBeLessThan(2000); // a refusal fails fast: no waiting for a timeout
  expect(client.status).toBe('closed');
  expect(client.connectionError).toMatchObject({ code: 'unauthorized' });
  for (const id of ['raw', 'client']) await expect(relay.store.get(service, id)).rejects.toMatchObject({ code: 'not_found' });
}

describe.each(STORES)('tokens (%s store)', (kind) => {
  it.each(BAD)('refuses %s with unauthorized and writes nothing', async (_, make, why) => {
    const relay = await startRelay(kind, { auth: jwtAuth });
    await expectRefused(relay, await make(), why, 'victim');
    expect(relay.refusals.unauthorized).toBe(2);
  });

  it('refuses an HS256 token signed with the relay\'s RS256 public key (algorithm confusion)', async () => {
    const relay = await startRelay(kind, { auth: { publicKey: rsaPem } });
    await expectRefused(relay, await signed({ ...claims, exp: now() + 60 }, rsaPem), /algorithm is not accepted: this relay takes RS256 only/, 'victim');
    // A real RS256 token from the private key is taken.
    const good = await new SignJWT({ grants: ALL }).setProtectedHeader({ alg: 'RS256' }).setSubject('ann').setExpirationTime(now() + 60).sign(rsaPrivate);
    const client = await opened(connect(relay, { token: good }));
    expect(client.identity).toMatchObject({ user: 'ann' });
  });
});

describe('the handshake', () => {
  it('welcomes only after the token verifies, saying who the user is and when the token expires', async () => {
    const relay = await startRelay('memory', { auth: jwtAuth });
    const token = await tokenFor('ann', ALL, { ttlSeconds: 600, issuer: ISSUER, audience: AUDIENCE });
    const raw = await rawExchange(relay.url, [{ type: 'auth', rid: 1, token }], 300);
    expect(raw.messages).toHaveLength(1);
    const welcome = raw.messages[0]!;
    expect(welcome).toMatchObject({ type: 'welcome', user: 'ann' });
    if (welcome.type !== 'welcome') throw new Error('no welcome');
    expect(welcome.expiresAt! - Date.now()).toBeGreaterThan(590_000);
    expect(welcome.expiresIn).toBeGreaterThan(590_000);
    const client = await opened(connect(relay, { token }));
    expect(client.identity).toEqual({ user: 'ann', expiresAt: welcome.expiresAt });
    await expect(client.sync.create('s', { a: 1 })).resolves.toMatchObject({ revision: 1 });
  });

  it('closes a socket that sends no token within the deadline (4401), and one that sends anything else first', async () => {
    const relay = await startRelay('memory', { auth: jwtAuth, limits: { authTimeoutMs: 300 } });
    const silent = await rawExchange(relay.url, [], 3000);
    expect(silent.close?.code).toBe(4401);
    expect(silent.messages).toEqual([{ type: 'error', rid: null, error: expect.objectContaining({ code: 'unauthorized', message: expect.stringMatching(/no valid token within 300 ms/) }) }]);
    const rude = await rawExchange(relay.url, [{ type: 'get', rid: 7, service: 's', id: 'x' }]);
    expect(rude.messages[0]).toMatchObject({ type: 'error', rid: 7, error: { code: 'unauthorized', message: expect.stringMatching(/authenticate first/) } });
    expect(rude.close?.code).toBe(4401);
    expect(relay.refusals).toMatchObject({ auth_timeout: 1 });
  });

  it('answers an auth frame on a relay without auth, which welcomes at once', async () => {
    const relay = await startRelay('memory');
    const raw = await rawExchange(relay.url, [{ type: 'auth', rid: 1, token: 'whatever' }], 300);
    expect(raw.messages).toEqual([
      expect.objectContaining({ type: 'welcome', user: null, expiresAt: null }),
      { type: 'result', rid: 1, result: { user: null, expiresAt: null, expiresIn: null } },
    ]);
    const client = await opened(connect(relay, { token: 'whatever' }));
    expect(client.identity).toEqual({ user: null, expiresAt: null });
  });
});

describe('expiry and refresh', () => {
  it('a static token that expires: calls fail with unauthorized within a second, and no reconnect loop follows', async () => {
    let verifications = 0;
    const expiresAt = Date.now() + 1500;
    const relay = await startRelay('memory', { auth: { verify: () => (verifications++, { user: 'ann', grants: ALL, expiresAt }) } });
    const client = await opened(connect(relay, { token: 'static' }));
    const statuses: string[] = [];
    client.on('status', (s) => statuses.push(s));
    await client.sync.create('s', { a: 1 }, 'doc');
    await eventually(() => client.status === 'closed', 5000, 'the expired connection to close');
    expect(Date.now() - expiresAt).toBeLessThan(1000);
    await expect(client.sync.get('s', 'doc')).rejects.toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/expired/) });
    await new Promise((r) => setTimeout(r, 1500));
    expect(verifications).toBe(1);
    expect(statuses).toEqual(['closed']);
    expect(relay.connections).toBe(0);
    expect(relay.refusals.token_expired).toBe(1);
  });

  it('a token function is asked again before expiry, and the connection outlives the first token', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET } });
    let asked = 0;
    const client = await opened(connect(relay, { token: () => (asked++, tokenFor('ann', ALL, { ttlSeconds: 2 })) }));
    const statuses: string[] = [];
    client.on('status', (s) => statuses.push(s));
    const first = client.identity!.expiresAt!;
    await new Promise((r) => setTimeout(r, Math.max(0, first - Date.now()) + 1200));
    expect(asked).toBeGreaterThanOrEqual(2);
    expect(statuses).toEqual([]); // never dropped
    expect(client.identity!.expiresAt!).toBeGreaterThan(first);
    expect(relay.connections).toBe(1);
    await expect(client.sync.create('s', { after: 'expiry of the first token' })).resolves.toMatchObject({ revision: 1 });
  });

  it('an expired token is replaced on reconnect when there is a function to ask', async () => {
    let n = 0;
    const relay = await startRelay('memory', {
      auth: { verify: (token) => ({ user: 'ann', grants: ALL, expiresAt: Date.now() + (token === 'first' ? 800 : 60_000) }) },
    });
    // The function hands out a short first token and then long ones; the client refreshes only
    // near expiry, so make the refresh fail once to force the relay to close the socket.
    let failRefresh = true;
    const client = connect(relay, {
      token: async () => {
        n++;
        if (n === 2 && failRefresh) {
          failRefresh = false;
          throw new Error('token service down');
        }
        return n === 1 ? 'first' : 'later';
      },
    });
    const errors: SyncError[] = [];
    client.on('error', (e) => errors.push(e));
    await opened(client);
    await eventually(() => client.status !== 'open', 5000, 'the expired socket to close');
    await opened(client);
    expect(client.connectionError).toBeUndefined();
    expect(errors.map((e) => e.message).join('\n')).toMatch(/token function failed: token service down/);
    await expect(client.sync.create('s', { a: 1 })).resolves.toMatchObject({ revision: 1 });
  });

  it('a refreshed token for another user is refused and the old one stays in force', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET } });
    const ann = await tokenFor('ann', ALL);
    const bob = await tokenFor('bob', ALL);
    const raw = await rawExchange(relay.url, [{ type: 'auth', rid: 1, token: ann }, { type: 'auth', rid: 2, token: bob }, { type: 'ping', rid: 3 }], 300);
    const answer = (rid: number) => raw.messages.find((m) => 'rid' in m && m.rid === rid);
    expect(answer(2)).toMatchObject({ type: 'error', error: { code: 'unauthorized', message: expect.stringMatching(/same user \("ann"\)/) } });
    expect(answer(3)).toEqual({ type: 'result', rid: 3, result: null });
    expect(raw.close).toBeUndefined();
  });

  it('a refused refresh is an error event, not a connection error, and is counted', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET } });
    let calls = 0;
    const client = await opened(
      connect(relay, { token: () => (++calls === 1 ? tokenFor('ann', ALL, { ttlSeconds: 2 }) : tokenFor('ann', ALL, { secret: 'not-the-relay-secret-but-32-bytes-long!' })) }),
    );
    const errors: SyncError[] = [];
    client.on('error', (e) => errors.push(e));
    await eventually(() => errors.length > 0, 3000, 'the refused refresh');
    expect(errors[0]).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/signature/) });
    expect(client.status).toBe('open');
    expect(client.connectionError).toBeUndefined();
    expect(relay.refusals.unauthorized).toBeGreaterThanOrEqual(1);
  });

  it('a token that lives for weeks is refreshed once, not in a loop (timers are capped)', async () => {
    let verifications = 0;
    const relay = await startRelay('memory', {
      auth: { verify: () => (verifications++, { user: 'ann', grants: ALL, expiresAt: Date.now() + 30 * 24 * 3600 * 1000 }) },
    });
    let asked = 0;
    const client = await opened(connect(relay, { token: () => (asked++, 'long') }));
    await new Promise((r) => setTimeout(r, 500));
    expect(asked).toBe(1);
    expect(verifications).toBe(1);
    expect(client.identity!.expiresAt! - Date.now()).toBeGreaterThan(29 * 24 * 3600 * 1000);
  });

  it('forgives the configured clock skew on exp, at the handshake and at expiry', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET, clockToleranceSeconds: 3 } });
    const late = await signed({ sub: 'ann', grants: ALL, exp: now() - 1 }); // 1 s past exp, within 3 s
    const client = await opened(connect(relay, { token: late }));
    await expect(client.sync.create('s', { ok: true })).resolves.toMatchObject({ revision: 1 });
    // Closed once the skew is spent too, not at exp.
    await eventually(() => client.status === 'closed', 5000, 'the connection to close after exp + tolerance');
    expect(client.connectionError).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/expired/) });
    const stale = await signed({ sub: 'ann', grants: ALL, exp: now() - 10 });
    const raw = await rawExchange(relay.url, [{ type: 'auth', rid: 1, token: stale }]);
    expect(raw.messages[0]).toMatchObject({ error: { code: 'unauthorized', message: 'the token has expired' } });
  });
});

describe('verifier outages', () => {
  it('a verifier that cannot check for now is not a refusal: the client keeps trying and gets in', async () => {
    let down = true;
    const relay = await startRelay('memory', {
      auth: {
        verify: () => {
          if (down) throw new SyncError('unavailable', 'session store unreachable');
          return { user: 'ann', grants: ALL };
        },
      },
    });
    const raw = await rawExchange(relay.url, [{ type: 'auth', rid: 1, token: 'static' }]);
    expect(raw.messages[0]).toMatchObject({ type: 'error', rid: 1, error: { code: 'unavailable', message: expect.stringMatching(/could not be checked for now: session store unreachable/) } });
    expect(raw.close?.code).toBe(1013);
    const client = connect(relay, { token: 'static' });
    await eventually(() => client.connectionError?.code === 'unavailable', 3000, 'the outage shown');
    expect(client.status).not.toBe('closed');
    down = false;
    await opened(client);
    await expect(client.sync.create('s', { ok: true })).resolves.toMatchObject({ revision: 1 });
    expect(relay.refusals.unauthorized).toBe(0);
  });

  it('a verification slower than the deadline asks the client to try again (1013), not 4401', async () => {
    const relay = await startRelay('memory', {
      auth: { verify: () => new Promise((r) => setTimeout(() => r({ user: 'ann', grants: ALL }), 600)) },
      limits: { authTimeoutMs: 200 },
    });
    const raw = await rawExchange(relay.url, [{ type: 'auth', rid: 1, token: 'slow' }]);
    expect(raw.close?.code).toBe(1013);
    expect(raw.messages[0]).toMatchObject({ error: { code: 'unavailable' } });
    expect(relay.refusals.auth_timeout).toBe(0);
  });

  it('bounds the frames parked behind a token being verified (1008)', async () => {
    const relay = await startRelay('memory', { auth: { verify: () => new Promise((r) => setTimeout(() => r({ user: 'ann', grants: ALL }), 300)) } });
    const frames: unknown[] = [{ type: 'auth', rid: 1, token: 'slow' }];
    for (let rid = 2; rid < 300; rid++) frames.push({ type: 'ping', rid });
    const raw = await rawExchange(relay.url, frames);
    expect(raw.close?.code).toBe(1008);
    expect(raw.messages.some((m) => m.type === 'welcome')).toBe(false);
    expect(raw.messages.find((m) => m.type === 'error')).toMatchObject({ error: { code: 'rate_limited', message: expect.stringMatching(/before the token was verified/) } });
    expect(relay.refusals.flood).toBe(1);
    // A few frames behind the token are fine: they run once it is verified.
    const polite = await rawExchange(relay.url, [{ type: 'auth', rid: 1, token: 'slow' }, { type: 'ping', rid: 2 }], 800);
    expect(polite.messages.map((m) => m.type)).toEqual(['welcome', 'result']);
  });
});
