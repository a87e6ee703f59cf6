/**
 * 13 — relay writes/s with auth on ÷ with auth off. Two relays, each in its own process on the
 * same Redis, the same build and limits; A has `auth: { secret }` and its sockets authenticate
 * once each, with a minted token of their own user, before any write (the token is verified
 * when the connection opens, never per write); B has no auth. The load is measure 1's (32
 * sockets, one small-field merge in flight each, each on its own document), so the ratio is what
 * an authenticated connection costs per write: its grants checked on every request, against a
 * relay without auth that allows everything.
 */
import type { Measure } from '../harness.js';
import { benchSecret, benchTokens } from '../support/relay-config.js';
import { compareWrites } from './relay-writes.js';

export const authWrites: Measure = {
  key: 'auth-writes',
  id: 13,
  async run(ctx) {
    const secret = benchSecret();
    return [
      await compareWrites(
        ctx,
        {
          id: 13,
          name: 'relay writes/s, auth on ÷ auth off',
          unit: 'writes/s',
          target: '>= 0.95',
          note: 'A: the relay (Redis store, own process) with auth: { secret }, each socket authenticated once with a minted HS256 token of its own user before the load; B: the same relay without auth; 32 sockets, one merge in flight each, as in measure 1.',
        },
        { label: 'the relay with auth', file: 'servers/relay.ts', env: { AUTH_SECRET: secret }, tokens: await benchTokens(secret, 'writer', 32), relay: true },
        { label: 'the relay without auth', file: 'servers/relay.ts', relay: true },
      ),
    ];
  },
};
