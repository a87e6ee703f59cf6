/**
 * 13 — relay writes/s with auth on ÷ with auth off. Two relays, each in its own process on the
 * same Redis, the same build and limits; A has `auth: { secret }` and its sockets authenticate
 * once each, with a minted token of their own user, before any write (the token is verified
 * when the connection opens, never per write); B has no auth. The load is measure 1's (32
 * sockets, one small-field merge in flight each, each on its own document), so the ratio is what
 * an authenticated connection costs per write: its grants checked on every request, against a
 * relay without auth that allows everything.
 */
import { compare, type Measure } from '../harness.js';
import { createDocs, freshPrefix, uniqueMutationId } from '../support/docs.js';
import { closeSockets, closedLoop, openSockets } from '../support/load.js';
import { start } from '../support/processes.js';
import { assertNoRefusals, benchSecret, benchTokens } from '../support/relay-config.js';

const SOCKETS = 32;

export const authWrites: Measure = {
  key: 'auth-writes',
  id: 13,
  async run(ctx) {
    const ms = 2500 * ctx.scale;
    const ids = Array.from({ length: SOCKETS }, (_, i) => `d${i}`);
    const authPrefix = freshPrefix('w-auth');
    const openPrefix = freshPrefix('w-open');
    await createDocs(ctx.redisUrl, authPrefix, 'bench', ids, { n: 0, label: 'small document' });
    await createDocs(ctx.redisUrl, openPrefix, 'bench', ids, { n: 0, label: 'small document' });
    const secret = benchSecret();
    const withAuth = await start('servers/relay.ts', { REDIS_URL: ctx.redisUrl, KEY_PREFIX: authPrefix, AUTH_SECRET: secret });
    const withoutAuth = await start('servers/relay.ts', { REDIS_URL: ctx.redisUrl, KEY_PREFIX: openPrefix });
    const tokens = await benchTokens(secret, 'writer', SOCKETS);
    const t0 = performance.now();
    const authSockets = await openSockets(withAuth.ready.url as string, SOCKETS, { token: (i) => tokens[i]! });
    ctx.log(`  ${SOCKETS} sockets opened and authenticated in ${(performance.now() - t0).toFixed(0)} ms`);
    const plainSockets = await openSockets(withoutAuth.ready.url as string, SOCKETS);
    const frame = (i: number, seq: number) =>
      JSON.stringify({ type: 'merge', rid: seq + 1, service: 'bench', id: ids[i], data: { n: seq }, mutationId: uniqueMutationId() });
    try {
      const row = await compare(
        ctx,
        {
          id: 13,
          name: 'relay writes/s, auth on ÷ auth off',
          unit: 'writes/s',
          target: '>= 0.95',
          note: 'A: the relay (Redis store, own process) with auth: { secret }, each socket authenticated once with a minted HS256 token of its own user before the load; B: the same relay without auth; 32 sockets, one merge in flight each, as in measure 1.',
        },
        () => closedLoop(authSockets, frame, ms),
        () => closedLoop(plainSockets, frame, ms),
      );
      await assertNoRefusals(withAuth, 'the relay with auth');
      await assertNoRefusals(withoutAuth, 'the relay without auth');
      return [row];
    } finally {
      await closeSockets([...authSockets, ...plainSockets]);
      await Promise.all([withAuth.stop(), withoutAuth.stop()]);
    }
  },
};
