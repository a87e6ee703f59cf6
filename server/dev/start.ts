/**
 * `npm start`: a relay on Redis with RedisJSON (REDIS_URL, or the project's private local
 * Redis) on port 8787 (env PORT), and Storybook's demos on port 6006 (env STORYBOOK_PORT)
 * talking to it. Prints both URLs; Ctrl-C stops all of them, Redis included.
 */
import { type ChildProcess, spawn } from 'node:child_process';
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
  const storybookPort = Number(process.env.STORYBOOK_PORT ?? 6006);
  const storybook: ChildProcess = spawn(
    'node_modules/.bin/storybook',
    ['dev', '-p', String(storybookPort), '-c', 'stories/.storybook', '--no-open', '--ci'],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, STORYBOOK_RELAY_URL: relay.url } },
  );
  let announced = false;
  storybook.stdout!.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (!announced && /Storybook .* started|Local:/i.test(chunk.toString())) {
      announced = true;
      console.log(`\nsyncdoc demos   http://localhost:${storybookPort}\nsyncdoc relay   ${relay.url}   (Redis with RedisJSON at ${redis.url})\nPress Ctrl-C to stop.\n`);
    }
  });
  console.log(`syncdoc relay   ${relay.url}   (Redis with RedisJSON at ${redis.url}); starting Storybook on port ${storybookPort} ...`);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // Wait for Storybook too (at most 5 s), so its port is free when this process is gone.
    const storybookGone = new Promise<void>((resolve) => {
      if (storybook.exitCode !== null || storybook.signalCode !== null) return resolve();
      storybook.once('exit', () => resolve());
      setTimeout(() => {
        storybook.kill('SIGKILL');
        resolve();
      }, 5000).unref();
    });
    storybook.kill('SIGTERM');
    await Promise.all([storybookGone, relay.close(), redis.stop()]);
    process.exit(code);
  };
  storybook.on('exit', (code) => {
    if (!stopping) {
      console.error(`npm start: Storybook exited (${code ?? 'signal'}); stopping the relay and Redis`);
      void stop(code ?? 1);
    }
  });
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
}

main().catch((err: unknown) => {
  console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
