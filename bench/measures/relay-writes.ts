/**
 * 1 — relay writes/s ÷ a bare process doing the same writes. Both servers run in their own
 * process against the same Redis; the same closed-loop load (32 sockets, one write in flight
 * each, a small-field merge per write, each on its own document) drives both.
 */
import { compare, type Measure } from '../harness.js';
import { createDocs, freshPrefix, uniqueMutationId } from '../support/docs.js';
import { closeSockets, closedLoop, openSockets } from '../support/load.js';
import { start } from '../support/processes.js';
import { assertNoRefusals } from '../support/relay-config.js';

const SOCKETS = 32;

export const relayWrites: Measure = {
  key: 'relay-writes',
  id: 1,
  async run(ctx) {
    const ms = 2500 * ctx.scale;
    const ids = Array.from({ length: SOCKETS }, (_, i) => `d${i}`);
    const relayPrefix = freshPrefix('w-relay');
    const barePrefix = freshPrefix('w-bare');
    await createDocs(ctx.redisUrl, relayPrefix, 'bench', ids, { n: 0, label: 'small document' });
    await createDocs(ctx.redisUrl, barePrefix, 'bench', ids, { n: 0, label: 'small document' });
    const relay = await start('servers/relay.ts', { REDIS_URL: ctx.redisUrl, KEY_PREFIX: relayPrefix });
    const bare = await start('servers/bare-eval.ts', { REDIS_URL: ctx.redisUrl, KEY_PREFIX: barePrefix });
    const relaySockets = await openSockets(relay.ready.url as string, SOCKETS);
    const bareSockets = await openSockets(bare.ready.url as string, SOCKETS);
    const frame = (i: number, seq: number) =>
      JSON.stringify({ type: 'merge', rid: seq + 1, service: 'bench', id: ids[i], data: { n: seq }, mutationId: uniqueMutationId() });
    try {
      const row = await compare(
        ctx,
        {
          id: 1,
          name: 'relay writes/s ÷ bare WebSocket → EVALSHA → reply',
          unit: 'writes/s',
          target: '>= 0.8',
          note: 'A: the relay (Redis store) in its own process; B: a bare ws server calling the same Lua script with the same arguments; 32 sockets, one merge in flight each.',
        },
        () => closedLoop(relaySockets, frame, ms),
        () => closedLoop(bareSockets, frame, ms),
      );
      // Every answer counted must be a write done, not a rate_limited refusal.
      await assertNoRefusals(relay, 'the relay');
      return [row];
    } finally {
      await closeSockets([...relaySockets, ...bareSockets]);
      await Promise.all([relay.stop(), bare.stop()]);
    }
  },
};
