/**
 * The syncdoc side of the peer comparisons, in a process of its own: `createRelay` from the
 * relay's source (server/index.ts) with its Redis store on the harness's Redis (RedisJSON), all
 * defaults but a key prefix of its own and the connection limits raised (BENCH_LIMITS).
 * Env: REDIS_URL, KEY_PREFIX.
 */
import { createRelay } from '../../server/index.js';
import { BENCH_LIMITS } from '../support/relay-config.js';
import { serveChild } from './child.js';

serveChild(async () => {
  const relay = await createRelay({
    port: 0,
    host: '127.0.0.1',
    redis: process.env.REDIS_URL!,
    keyPrefix: process.env.KEY_PREFIX ?? 'bench-peers:',
    limits: BENCH_LIMITS, // 50 writers at ≈ 200 writes/s each: measure the relay, not its rate limits
    log: (line) => process.stderr.write(`syncdoc relay: ${line}\n`),
  });
  return { info: { url: relay.url }, close: () => relay.close() };
});
