#!/usr/bin/env node
/**
 * syncdoc-relay: the relay from the command line. Stores in Redis (with RedisJSON) when given a
 * URL, else in memory, and says plainly that memory is not durable. Checks tokens when given a
 * key (see ./cli-auth.ts); `syncdoc-relay token` mints one for development.
 */
import { parseArgs } from 'node:util';
import { CliError, SECRET_ENV, relayAuthFrom, runToken } from './cli-auth.js';
import { createRelay } from './relay.js';

const HELP = `syncdoc-relay: real-time JSON documents over WebSocket, stored in Redis with RedisJSON

Usage: syncdoc-relay [options]          run the relay
       syncdoc-relay token [options]    print a development token (see syncdoc-relay token --help)

Options:
  --port N        port to listen on (env PORT; default 8787; 0 = any free port)
  --host H        interface to bind (env HOST; default 127.0.0.1; 0.0.0.0 for every interface)
  --redis URL     Redis with the RedisJSON module, e.g. redis://localhost:6379 (env REDIS_URL);
                  without it documents live in memory and are lost when the relay stops
  --key-prefix P  prefix of every Redis key and channel (env SYNCDOC_KEY_PREFIX; default syncdoc:)
  -h, --help      show this help

Auth (default: none; every connection may read and write every document):
  --auth-secret-file F      file holding the HS256 secret, at least 32 bytes (trailing
                            whitespace ignored), e.g. made with: openssl rand -base64 32 > F
  env ${SECRET_ENV}   the HS256 secret itself, used when --auth-secret-file is not given
  --auth-public-key-file F  file holding a public key (SPKI PEM or JWK JSON); tokens are then
                            RS256, ES256 or EdDSA, by the key's type. A secret or a key, not both
  --issuer I                accept only tokens whose "iss" is I (needs a secret or a key)
  --audience A              accept only tokens whose "aud" is or lists A (needs a secret or a key)
  --allow-anonymous         without auth, listen on a host other than loopback anyway; without
                            it the relay refuses to, lest anyone on the network read and write
                            every document
  --allow-origin O          a browser origin (scheme://host[:port]) whose pages may open a
                            WebSocket; repeat for several. Pages of other sites are refused
                            with 403 at the upgrade; clients that send no Origin header
                            (servers, scripts) are not affected. Default: every origin

A client sends its token in the first WebSocket frame (RealtimeClient option token), never in
the URL, so it stays out of proxy and access logs. A token is a JWT with "sub" (the user), "exp"
and "grants" ({ "session": ["read", "write"] }); syncdoc-relay token makes one.

Stops cleanly on SIGINT and SIGTERM.`;

async function main(args: string[]): Promise<number> {
  const token = args[0] === 'token';
  try {
    return await (token ? runToken(args.slice(1), process.env) : runRelay(args));
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    console.error(`syncdoc-relay${token ? ' token' : ''}: ${err.message}`);
    return err.code;
  }
}

/** The relay: listens until SIGINT or SIGTERM; returns the exit status. */
async function runRelay(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        redis: { type: 'string' },
        'key-prefix': { type: 'string' },
        'auth-secret-file': { type: 'string' },
        'auth-public-key-file': { type: 'string' },
        issuer: { type: 'string' },
        audience: { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'allow-anonymous': { type: 'boolean' },
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
  const relayAuth = relayAuthFrom(values, process.env);
  const origins = values['allow-origin'];
  if (!redis) {
    console.error('syncdoc-relay: no Redis URL given (--redis or REDIS_URL): using the in-memory store. Documents are NOT durable and are lost when the relay stops.');
  }
  // Without auth the relay says so itself ("no auth configured: ...").
  if (relayAuth) console.error(`syncdoc-relay: ${relayAuth.description}`);
  if (origins) console.error(`syncdoc-relay: WebSocket origins allowed: ${origins.join(', ')} (others are refused with 403)`);
  let relay;
  try {
    relay = await createRelay({
      port,
      host,
      ...(redis && { redis }),
      ...(keyPrefix && { keyPrefix }),
      ...(relayAuth && { auth: relayAuth.auth }),
      ...(values['allow-anonymous'] && { allowAnonymous: true }),
      ...(origins && { allowedOrigins: origins }),
    });
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('syncdoc-relay: fatal:', err);
    process.exit(1);
  },
);
