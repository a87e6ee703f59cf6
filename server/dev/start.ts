/**
 * `npm start`: a relay on Redis with RedisJSON (REDIS_URL, or the project's private local
 * Redis) on port 8787 (env PORT), with token auth; a dev-only token endpoint on port 8788 (env
 * TOKEN_PORT) that mints tokens for the demos; and Storybook's demos on port 6006 (env
 * STORYBOOK_PORT) talking to both. Prints the URLs; Ctrl-C stops all of them, Redis included.
 *
 * The relay's secret is random at each start and stays in this process: Storybook gets only the
 * token endpoint's URL (it inlines every STORYBOOK_* variable into the page it serves).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRelay } from '../relay.js';
import { ensureRedis } from './local-redis.js';
import { startTokenServer } from './token-server.js';

async function main(): Promise<void> {
  const host = process.env.HOST ?? '127.0.0.1';
  const secret = randomBytes(32).toString('base64url');
  const redis = await ensureRedis();
  // Whatever fails to start, what did start is stopped again.
  const relay = await createRelay({ port: Number(process.env.PORT ?? 8787), host, redis: redis.url, auth: { secret } }).catch(
    async (err: unknown) => {
      await redis.stop();
      throw err;
    },
  );
  const tokens = await startTokenServer({ secret, port: Number(process.env.TOKEN_PORT ?? 8788) }).catch(async (err: unknown) => {
    await Promise.all([relay.close(), redis.stop()]);
    throw err;
  });
  const relayUrl = relay.url;
  const storybookPort = Number(process.env.STORYBOOK_PORT ?? 6006);
  const storybook: ChildProcess = spawn(
    'node_modules/.bin/storybook',
    ['dev', '-p', String(storybookPort), '-c', 'stories/.storybook', '--no-open', '--ci'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      // URLs only: never the secret, which Storybook would inline into the page.
      env: { ...process.env, STORYBOOK_RELAY_URL: relayUrl, STORYBOOK_TOKEN_URL: tokens.url },
    },
  );
  const started =
    `syncdoc relay   ${relayUrl}   (Redis with RedisJSON at ${redis.url}; token auth, secret random per start)\n` +
    `syncdoc tokens  ${tokens.url}   (dev-only endpoint: mints any rights for anyone on this machine)`;
  let announced = false;
  storybook.stdout!.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    if (!announced && /Storybook .* started|Local:/i.test(chunk.toString())) {
      announced = true;
      console.log(`\nsyncdoc demos   http://localhost:${storybookPort}\n${started}\nPress Ctrl-C to stop.\n`);
    }
  });
  console.log(`${started}\nstarting Storybook on port ${storybookPort} ...`);

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
    await Promise.all([storybookGone, tokens.close(), relay.close(), redis.stop()]);
    process.exit(code);
  };
  storybook.on('exit', (code) => {
    if (!stopping) {
      console.error(`npm start: Storybook exited (${code ?? 'signal'}); stopping the relay, the token endpoint and Redis`);
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
