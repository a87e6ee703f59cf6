/**
 * The syncdoc-relay CLI as a user runs it: a real child process, its output, its HTTP port,
 * and a clean stop on SIGINT / SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareLocalRedis } from '../../server/dev/local-redis.js';
import { eventually, freshPrefix, redisUrl } from '../helpers/relay.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string | undefined> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
    env: { ...process.env, REDIS_URL: undefined, PORT: undefined, HOST: undefined, ...env },
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

async function health(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/health`);
  return (await res.json()) as Record<string, unknown>;
}

describe('syncdoc-relay', () => {
  it('--help lists every option and exits 0', async () => {
    const r = run(['--help']);
    expect(await r.exited).toBe(0);
    for (const option of ['--port', '--host', '--redis', '--key-prefix', '--help', 'PORT', 'HOST', 'REDIS_URL']) {
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
      await eventually(() => plain.exitCode === null, 1000);
      await new Promise((resolve) => setTimeout(resolve, 300));
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
