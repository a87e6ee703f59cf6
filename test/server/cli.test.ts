/**
 * The syncdoc-relay CLI as a user runs it: a real child process, its output, its HTTP port,
 * and a clean stop on SIGINT / SIGTERM; its auth flags and the `token` subcommand, with real
 * clients presenting the tokens it prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SyncError } from '../../src/index.js';
import { pingRedis, prepareLocalRedis } from '../../server/dev/local-redis.js';
import { connect, eventually, freshPrefix, opened, redisUrl } from '../helpers/relay.js';

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'syncdoc-cli-'));
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `text` to a fresh file under the test's temp dir; returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const SECRET = 'cli-test-secret-of-at-least-32-bytes-0123';
const OTHER_SECRET = 'another-cli-secret-of-at-least-32-bytes-9';

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string | undefined> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
    env: { ...process.env, REDIS_URL: undefined, PORT: undefined, HOST: undefined, SYNCDOC_AUTH_SECRET: undefined, ...env },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function listening(r: Run): Promise<string> {
  await eventually(() => /listening on http:\/\/\S+/.test(r.out()) || r.child.exitCode !== null, 20_000, 'the relay to listen');
  const match = /listening on (http:\/\/[^\s]+)/.exec(r.out());
  if (!match) throw new Error(`relay did not start:\n${r.out()}\n${r.err()}`);
  return match[1]!;
}

/** Runs `syncdoc-relay token ...`; expects exit 0 and exactly a JWT and a newline on stdout. */
async function mint(args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const r = run(['token', ...args], env);
  expect(await r.exited, r.err()).toBe(0);
  expect(r.out()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.out().trimEnd();
}

/** Runs the CLI to its end; resolves with its exit status and output. */
async function finished(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const r = run(args, env);
  const code = await r.exited;
  return { code, out: r.out(), err: r.err() };
}

/** Opens a raw WebSocket sending `origin`: resolves 'open', or the error (an HTTP refusal). */
function upgrade(url: string, origin?: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), origin === undefined ? {} : { headers: { origin } });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('error', (err) => resolve(err.message));
  });
}

async function health(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/health`);
  return (await res.json()) as Record<string, unknown>;
}

describe('syncdoc-relay', () => {
  it('--help lists every option and exits 0', async () => {
    const r = run(['--help']);
    expect(await r.exited).toBe(0);
    const options = ['--port', '--host', '--redis', '--key-prefix', '--help', 'PORT', 'HOST', 'REDIS_URL', 'SYNCDOC_KEY_PREFIX'];
    const auth = ['--auth-secret-file', '--auth-public-key-file', '--issuer', '--audience', '--allow-origin', '--allow-anonymous', 'SYNCDOC_AUTH_SECRET'];
    for (const option of [...options, ...auth, 'syncdoc-relay token', 'first WebSocket frame', 'never in', '403']) {
      expect(r.out()).toContain(option);
    }
  });

  it('without a Redis URL uses memory, says plainly it is not durable, and stops cleanly on SIGTERM', async () => {
    const r = run(['--port', '0']);
    const url = await listening(r);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(r.err()).toMatch(/in-memory store.*NOT durable/);
    expect(await health(url)).toMatchObject({ ok: true, store: 'memory', durable: false });
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('takes --redis and stops cleanly on SIGINT', async () => {
    const r = run(['--port', '0', '--redis', redisUrl(), '--key-prefix', freshPrefix()]);
    const url = await listening(r);
    expect(await health(url)).toMatchObject({ ok: true, store: 'redis', durable: true });
    expect(r.err()).not.toMatch(/not durable/i);
    r.child.kill('SIGINT');
    expect(await r.exited).toBe(0);
  });

  it('reads PORT, HOST and REDIS_URL from the environment', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const r = run([], { PORT: String(port), HOST: '127.0.0.1', REDIS_URL: redisUrl() });
    const url = await listening(r);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(await health(url)).toMatchObject({ store: 'redis' });
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('refuses a bad option or port with exit code 2 and the reason', async () => {
    const bad = run(['--port', 'eighty']);
    expect(await bad.exited).toBe(2);
    expect(bad.err()).toContain('--port must be an integer');
    const unknown = run(['--colour']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.err()).toMatch(/Unknown option '--colour'/);
  });

  it('exits 1 naming what to install when Redis has no RedisJSON module', async () => {
    const parts = await prepareLocalRedis({ log: () => {} });
    const port = 20000 + Math.floor(Math.random() * 20000);
    const plain = spawn(parts.server, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      env: { ...process.env, ...(parts.libraryPath && { LD_LIBRARY_PATH: parts.libraryPath }) },
    });
    children.push(plain);
    try {
      // Listening, not merely started: on a busy machine it takes a while.
      await eventually(() => pingRedis(port), 10_000, 'the plain Redis to answer');
      const r = run(['--port', '0', '--redis', `redis://127.0.0.1:${port}`]);
      expect(await r.exited).toBe(1);
      expect(r.err()).toMatch(/RedisJSON/);
      expect(r.err()).toMatch(/Redis Stack/);
      expect(r.err()).toMatch(/Redis 8/);
    } finally {
      plain.kill('SIGKILL');
    }
  });

  it('exits 1 with the cause when Redis cannot be reached', async () => {
    const r = run(['--port', '0', '--redis', 'redis://127.0.0.1:1']);
    expect(await r.exited).toBe(1);
    expect(r.err()).toMatch(/could not start: .*ECONNREFUSED|could not start: .*connect/);
  });
});

describe('syncdoc-relay auth', () => {
  it('a token printed by `token` is taken by a relay on the same --auth-secret-file: write and read as its user', async () => {
    const secretFile = file('secret.txt', `${SECRET}\n`); // the newline echo adds is not part of it
    const token = await mint(['--secret-file', secretFile, '--sub', 'alice', '--grant', 'session:read,write']);
    const r = run(['--port', '0', '--auth-secret-file', secretFile]);
    const url = await listening(r);
    expect(r.err()).toContain(`auth: HS256 tokens, secret from ${secretFile}`);
    expect(r.err()).not.toMatch(/no auth configured/);

    const client = await opened(connect({ url }, { token }));
    expect(client.identity).toMatchObject({ user: 'alice' });
    await client.sync.create('session', { step: 1 }, 's1');
    expect(await client.sync.get('session', 's1')).toMatchObject({ revision: 1, data: { step: 1 } });
    const denied = (await client.sync.create('order', { x: 1 }, 'o1').catch((e: unknown) => e)) as SyncError;
    expect(denied).toMatchObject({ code: 'forbidden' });

    expect(r.out() + r.err()).not.toContain(SECRET);
    expect(r.out() + r.err()).not.toContain(token.split('.')[2]);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('takes SYNCDOC_AUTH_SECRET with --issuer and --audience; refuses a token of another secret or without the claims', async () => {
    const grant = ['--sub', 'bob', '--grant', '*:read,write'];
    const claims = ['--issuer', 'https://issuer.test', '--audience', 'syncdoc'];
    const [good, otherSecret, noClaims] = await Promise.all([
      mint([...grant, ...claims, '--ttl', '60'], { SYNCDOC_AUTH_SECRET: SECRET }),
      mint([...grant, ...claims], { SYNCDOC_AUTH_SECRET: OTHER_SECRET }),
      mint(grant, { SYNCDOC_AUTH_SECRET: SECRET }),
    ]);
    const r = run(['--port', '0', ...claims], { SYNCDOC_AUTH_SECRET: SECRET });
    const url = await listening(r);
    expect(r.err()).toContain('auth: HS256 tokens, secret from SYNCDOC_AUTH_SECRET, requiring "iss" https://issuer.test and "aud" syncdoc');
    expect(r.out() + r.err()).not.toContain(SECRET);

    const client = await opened(connect({ url }, { token: good }));
    expect(client.identity).toMatchObject({ user: 'bob' });
    await client.sync.create('notes', { ok: true }, 'n1');
    for (const [token, why] of [[otherSecret, /signature does not verify/], [noClaims, /"iss" claim/]] as const) {
      const refused = connect({ url }, { token });
      const err = (await refused.sync.get('notes', 'n1').catch((e: unknown) => e)) as SyncError;
      expect(err).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(why) });
    }
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('verifies with --auth-public-key-file (a JWK JSON file): an EdDSA token is taken', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const keyFile = file('public.jwk.json', JSON.stringify(publicKey.export({ format: 'jwk' })));
    const r = run(['--port', '0', '--auth-public-key-file', keyFile]);
    const url = await listening(r);
    expect(r.err()).toContain(`auth: tokens verified with the public key in ${keyFile}`);
    const token = await new SignJWT({ grants: { '*': ['read'] } })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('carol')
      .setExpirationTime('1m')
      .sign(privateKey);
    const client = await opened(connect({ url }, { token }));
    expect(client.identity).toMatchObject({ user: 'carol' });
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('--allow-origin refuses the WebSocket of another Origin with 403 and opens for the listed ones and for clients without Origin', async () => {
    const r = run(['--port', '0', '--allow-origin', 'https://app.example.com', '--allow-origin', 'http://localhost:5173']);
    const url = await listening(r);
    expect(r.err()).toContain('origins allowed: https://app.example.com, http://localhost:5173');
    expect(await upgrade(url, 'https://evil.example.com')).toMatch(/Unexpected server response: 403/);
    expect(await upgrade(url, 'https://app.example.com')).toBe('open');
    expect(await upgrade(url, 'http://localhost:5173')).toBe('open');
    expect(await upgrade(url)).toBe('open');
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('refuses --host 0.0.0.0 without auth, naming --allow-anonymous; starts with it', async () => {
    const refused = await finished(['--port', '0', '--host', '0.0.0.0']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/could not start: refusing to listen on 0\.0\.0\.0 without auth.*--allow-anonymous/);

    const r = run(['--port', '0', '--host', '0.0.0.0', '--allow-anonymous']);
    const url = await listening(r);
    expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(r.err()).toMatch(/no auth configured/);
    expect(await health(url.replace('0.0.0.0', '127.0.0.1'))).toMatchObject({ ok: true });
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
  });

  it('refuses auth flags that cannot work with exit code 2 and the reason, never the secret', async () => {
    const secretFile = file('good-secret.txt', SECRET);
    const shortFile = file('short-secret.txt', 'too-short\n');
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--auth-secret-file', secretFile, '--auth-public-key-file', secretFile], {}, /--auth-secret-file .* or --auth-public-key-file .*not both/],
      [['--auth-public-key-file', secretFile], { SYNCDOC_AUTH_SECRET: SECRET }, /SYNCDOC_AUTH_SECRET is set and --auth-public-key-file is given/],
      [['--issuer', 'https://issuer.test'], {}, /--issuer and --audience need a key/],
      [['--audience', 'syncdoc'], {}, /--issuer and --audience need a key/],
      [['--auth-secret-file', join(dir, 'missing.txt')], {}, /--auth-secret-file: cannot read .*missing\.txt \(ENOENT\)/],
      [['--auth-secret-file', shortFile], {}, /the secret in .*short-secret\.txt cannot be used: .*at least 32 bytes/],
      [['--auth-public-key-file', secretFile], {}, /the public key in .*good-secret\.txt cannot be used: .*not a usable public key/],
    ];
    const results = await Promise.all(cases.map(([args, env]) => finished(['--port', '0', ...args], env)));
    results.forEach((result, i) => {
      expect(result.code, cases[i]![0].join(' ')).toBe(2);
      expect(result.err).toMatch(cases[i]![2]);
      expect(result.err + result.out).not.toContain(SECRET);
      expect(result.out).not.toMatch(/listening/);
    });
  });

  it('token refuses a missing sub, grant or secret, a bad grant or ttl with exit code 2 and nothing on stdout', async () => {
    const secretFile = file('token-secret.txt', SECRET);
    const ok = ['--secret-file', secretFile, '--sub', 'alice', '--grant', 'session:read'];
    const cases: Array<[string[], RegExp]> = [
      [['--secret-file', secretFile, '--grant', 'session:read'], /--sub USER is required/],
      [['--secret-file', secretFile, '--sub', 'alice'], /at least one --grant is required/],
      [['--sub', 'alice', '--grant', 'session:read'], /no secret: give --secret-file F or set SYNCDOC_AUTH_SECRET/],
      [[...ok, '--grant', 'session:fly'], /bad grant: the rights of "session"/],
      [[...ok, '--grant', 'no-colon'], /a grant looks like scope:rights/],
      [[...ok, '--ttl', '1.5'], /--ttl must be a whole number of seconds/],
      [[...ok, '--ttl', '0'], /--ttl must be a whole number of seconds/],
      [['--secret-file', join(dir, 'missing.txt'), '--sub', 'alice', '--grant', 'session:read'], /--secret-file: cannot read .*missing\.txt/],
      [[...ok, '--colour'], /Unknown option '--colour'/],
    ];
    const results = await Promise.all(cases.map(([args]) => finished(['token', ...args])));
    results.forEach((result, i) => {
      expect(result.code, cases[i]![0].join(' ')).toBe(2);
      expect(result.err).toMatch(/^syncdoc-relay token: /);
      expect(result.err).toMatch(cases[i]![1]);
      expect(result.out).toBe('');
    });
  });

  it('token --help shows its own options and exits 0', async () => {
    const help = await finished(['token', '--help']);
    expect(help.code).toBe(0);
    for (const option of ['--secret-file', 'SYNCDOC_AUTH_SECRET', '--sub', '--grant', '--ttl', '--issuer', '--audience', '--help', 'default 3600']) {
      expect(help.out).toContain(option);
    }
    expect(help.out).not.toContain('--auth-public-key-file');
  });
});
