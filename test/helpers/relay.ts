/**
 * Shared test helpers: start relays on port 0 over either store, open clients over a real
 * WebSocket, and tear everything down after each file.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import type { Redis } from 'ioredis';
import WebSocket from 'ws';
import { RealtimeClient, type RealtimeClientOptions } from '../../src/index.js';
import { type Relay, type RelayOptions, createRelay } from '../../server/index.js';

/** The two storage drivers every contract test runs on. */
export const STORES = ['memory', 'redis'] as const;
/** One of {@link STORES}. */
export type StoreKind = (typeof STORES)[number];

/** The Redis with RedisJSON of this run (from the global setup). */
export function redisUrl(): string {
  return inject('redisUrl');
}

/** A key prefix no other test file uses, so files can share one Redis. */
export function freshPrefix(): string {
  return `test:${randomBytes(5).toString('hex')}:`;
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

/** Starts a relay on a free port over `kind`; closed after the file. */
export async function startRelay(kind: StoreKind, options: RelayOptions = {}): Promise<Relay> {
  const relay = await createRelay({
    port: 0,
    log: () => {},
    ...(kind === 'redis' && { redis: redisUrl(), keyPrefix: options.keyPrefix ?? freshPrefix() }),
    ...options,
  });
  cleanups.push(() => relay.close());
  return relay;
}

/** Opens a client to `relay` over a real WebSocket (`ws`); closed after the file. */
export function connect(relay: { url: string }, options: Partial<RealtimeClientOptions> = {}): RealtimeClient {
  const client = new RealtimeClient({ url: relay.url, WebSocket, requestTimeout: 5000, ...options });
  cleanups.push(() => client.close());
  return client;
}

/** Resolves when `predicate` holds, polling; rejects after `ms`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with the client once its status is `open`. */
export async function opened(client: RealtimeClient): Promise<RealtimeClient> {
  await eventually(() => client.status === 'open', 5000, 'the connection to open');
  return client;
}

/** Every key under `prefix` in `redis`, and only those (other test files share the Redis). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    // Only keys of this prefix, even if a pattern character in it matched more.
    keys.push(...found.filter((k) => k.startsWith(prefix)));
  } while (cursor !== '0');
  return keys;
}

/** Every key under `prefix` in `redis` (only those), deleted; returns how many. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  const own = await keysUnder(redis, prefix);
  return own.length > 0 ? redis.del(...own) : 0;
}
