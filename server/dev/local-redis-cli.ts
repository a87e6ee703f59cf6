/**
 * Command line for the local Redis helper.
 *
 *   npx tsx server/dev/local-redis-cli.ts [--port N]
 *     Redis with RedisJSON ($REDIS_URL if set, else a local child server); prints its URL on stdout
 *     and stays in the foreground until SIGINT/SIGTERM, then stops Redis and exits 0.
 *   npx tsx server/dev/local-redis-cli.ts --prepare
 *     Only fetches/installs the parts (e.g. to warm a CI cache), prints where they are, exits.
 *
 * Progress goes to stderr, so `URL=$(npx tsx server/dev/local-redis-cli.ts &)`-style capture sees only the URL.
 */
import { ensureRedis, prepareLocalRedis, type LocalRedisOptions } from './local-redis.js';

const USAGE = 'usage: local-redis-cli.ts [--port N] | --prepare';

function parseArgs(argv: string[]): { prepare: boolean; opts: LocalRedisOptions } {
  const opts: LocalRedisOptions = {};
  let prepare = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--prepare') prepare = true;
    else if (arg === '--port' && /^\d+$/.test(argv[i + 1] ?? '')) opts.port = Number(argv[++i]);
    else throw new Error(`unknown argument ${arg ?? ''}\n${USAGE}`);
  }
  return { prepare, opts };
}

async function main(): Promise<void> {
  const { prepare, opts } = parseArgs(process.argv.slice(2));
  if (prepare) {
    const parts = await prepareLocalRedis(opts);
    process.stdout.write(`redis-server: ${parts.server}\nrejson.so:    ${parts.module}\n`
      + (parts.libraryPath ? `libssl1.1:    ${parts.libraryPath} (LD_LIBRARY_PATH)\n` : ''));
    return;
  }

  const redis = await ensureRedis(opts);
  process.stdout.write(`${redis.url}\n`);
  // The Redis child is unref'd (so it never keeps other programs alive); here we want to stay up.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const shutdown = (): void => {
    clearInterval(keepAlive);
    redis.stop().then(
      () => process.exit(0),
      (err: unknown) => { process.stderr.write(`syncdoc redis: stopping failed: ${String(err)}\n`); process.exit(1); },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
