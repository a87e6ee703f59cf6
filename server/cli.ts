#!/usr/bin/env node
/**
 * syncdoc-relay: the relay from the command line. Stores in Redis (with RedisJSON) when given a
 * URL, else in memory, and says plainly that memory is not durable.
 */
import { parseArgs } from 'node:util';
import { createRelay } from './relay.js';

const HELP = `syncdoc-relay: real-time JSON documents over WebSocket, stored in Redis with RedisJSON

Usage: syncdoc-relay [options]

Options:
  --port N        port to listen on (env PORT; default 8787; 0 = any free port)
  --host H        interface to bind (env HOST; default 127.0.0.1; 0.0.0.0 for every interface)
  --redis URL     Redis with the RedisJSON module, e.g. redis://localhost:6379 (env REDIS_URL);
                  without it documents live in memory and are lost when the relay stops
  --key-prefix P  prefix of every Redis key and channel (env SYNCDOC_KEY_PREFIX; default syncdoc:)
  -h, --help      show this help

Stops cleanly on SIGINT and SIGTERM.`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        redis: { type: 'string' },
        'key-prefix': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`syncdoc-relay: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const portText = values.port ?? process.env.PORT ?? '8787';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`syncdoc-relay: --port must be an integer from 0 to 65535, got ${portText}`);
    return 2;
  }
  const host = values.host ?? process.env.HOST ?? '127.0.0.1';
  const redis = values.redis ?? process.env.REDIS_URL ?? undefined;
  const keyPrefix = values['key-prefix'] ?? process.env.SYNCDOC_KEY_PREFIX;
  if (!redis) {
    console.error('syncdoc-relay: no Redis URL given (--redis or REDIS_URL): using the in-memory store. Documents are NOT durable and are lost when the relay stops.');
  }
  let relay;
  try {
    relay = await createRelay({ port, host, ...(redis && { redis }), ...(keyPrefix && { keyPrefix }) });
  } catch (err) {
    console.error(`syncdoc-relay: could not start: ${(err as Error).message}`);
    return 1;
  }
  console.log(`listening on ${relay.url}${redis ? ` (Redis at ${redis.replace(/\/\/[^@/]*@/, '//***@')})` : ' (in-memory store)'}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.error(`syncdoc-relay: ${signal}: closing`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await relay.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('syncdoc-relay: fatal:', err);
    process.exit(1);
  },
);
