/**
 * Vitest global setup: one Redis with RedisJSON for the whole run (REDIS_URL if set, else a
 * private server from the project's helper). When none can be had, the run fails here, loudly:
 * Redis tests never skip.
 */
import type { TestProject } from 'vitest/node';
import { ensureRedis } from '../../server/dev/local-redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await ensureRedis();
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
