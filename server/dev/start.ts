/**
 * `npm start`: a relay on Redis with RedisJSON (REDIS_URL, or the project's private local
 * Redis), on port 8787 (env PORT). Prints the URLs and stops everything, Redis included, on
 * Ctrl-C.
 */
import { createRelay } from '../relay.js';
import { ensureRedis } from './local-redis.js';

async function main(): Promise<void> {
  const redis = await ensureRedis();
  let relay;
  try {
    relay = await createRelay({ port: Number(process.env.PORT ?? 8787), host: process.env.HOST ?? '127.0.0.1', redis: redis.url });
  } catch (err) {
    await redis.stop();
    throw err;
  }
  console.log(`syncdoc relay   ${relay.url}   (Redis with RedisJSON at ${redis.url})`);
  console.log('Press Ctrl-C to stop.');
  // The Redis child is unref'd so it never keeps a process alive by itself; here we stay up.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = async () => {
    clearInterval(keepAlive);
    await relay.close();
    await redis.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
