/**
 * 2 — relay fan-out deliveries/s to N subscribers ÷ a bare `ws` server broadcasting one
 * pre-serialized buffer to the same N. Subscribers and the writer live in another process
 * (servers/fanout-load.ts), with the same flow control for both servers.
 */
import { compare, type BenchRow, type Measure } from '../harness.js';
import { createDocs, freshPrefix } from '../support/docs.js';
import { type Child, start } from '../support/processes.js';
import { assertNoRefusals } from '../support/relay-config.js';

const SIZES = [10, 100, 1000];

/** Deliveries per second one flow-controlled load process (servers/fanout-load.ts) measures over `ms`. */
export async function deliveries(load: Child, ms: number): Promise<number> {
  const r = await load.ask<{ deliveries: number; elapsed: number }>({ type: 'measure', ms }, 'measured');
  return (r.deliveries / r.elapsed) * 1000;
}

export const fanout: Measure = {
  key: 'fanout',
  id: 2,
  async run(ctx) {
    const ms = 2000 * ctx.scale;
    const prefix = freshPrefix('fan');
    await createDocs(ctx.redisUrl, prefix, 'bench', ['fan'], { seq: 0, label: 'small document' });
    const relay = await start('servers/relay.ts', { REDIS_URL: ctx.redisUrl, KEY_PREFIX: prefix });
    const bare = await start('servers/bare-broadcast.ts');
    const rows: BenchRow[] = [];
    try {
      for (const n of SIZES) {
        const relayLoad = await start('servers/fanout-load.ts', { URL: relay.ready.url as string, N: String(n), KIND: 'relay' });
        const bareLoad = await start('servers/fanout-load.ts', { URL: bare.ready.url as string, N: String(n), KIND: 'bare' });
        try {
          rows.push(
            await compare(
              ctx,
              {
                id: 2,
                name: `fan-out deliveries/s, N = ${n}`,
                unit: 'deliveries/s',
                target: '>= 0.8',
                note: 'A: writes through the relay (Redis store, own process), each event routed and sent to N subscribers; B: a bare ws server writing one pre-serialized buffer to the same N; writer and subscribers in another process, 16 events outstanding.',
              },
              () => deliveries(relayLoad, ms),
              () => deliveries(bareLoad, ms),
            ),
          );
        } finally {
          await Promise.all([relayLoad.stop(), bareLoad.stop()]);
        }
      }
      await assertNoRefusals(relay, 'the relay'); // a refused write would be an event that never comes
    } finally {
      await Promise.all([relay.stop(), bare.stop()]);
    }
    return rows;
  },
};
