/**
 * The syncdoc side of the peer comparisons, in a process of its own: `createRelay` from the
 * relay's source (server/index.ts) with its Redis store on the harness's Redis (RedisJSON), all
 * defaults but a key prefix of its own. Env: REDIS_URL, KEY_PREFIX.
 */
import { createRelay } from '../../server/index.js';
import { serveChild } from './child.js';

serveChild(async () => {
  const relay = await createRelay({
    port: 0,
    host: '127.0.0.1',
    redis: process.env.REDIS_URL!,
    keyPrefix: process.env.KEY_PREFIX ?? 'bench-peers:',
    log: (line) => process.stderr.write(`syncdoc relay: ${line}\n`),
  });
  return { info: { url: relay.url }, close: () => relay.close() };
});
