/**
 * 4 — cross-relay deliveries/s (subscribers on a second relay) ÷ same-relay deliveries/s.
 * Two relays (each its own process) on one Redis; the writer always talks to relay 1; 100
 * subscribers sit on relay 2 (A) or on relay 1 (B).
 */
import { compare, type Measure } from '../harness.js';
import { createDocs, freshPrefix } from '../support/docs.js';
import { start } from '../support/processes.js';
import { assertNoRefusals } from '../support/relay-config.js';
import { deliveries } from './fanout.js';

const N = 100;

export const crossRelay: Measure = {
  key: 'cross-relay',
  id: 4,
  async run(ctx) {
    const ms = 2000 * ctx.scale;
    const prefix = freshPrefix('cross');
    await createDocs(ctx.redisUrl, prefix, 'bench', ['fan'], { seq: 0, label: 'small document' });
    const env = { REDIS_URL: ctx.redisUrl, KEY_PREFIX: prefix };
    const one = await start('servers/relay.ts', env);
    const two = await start('servers/relay.ts', env);
    const url1 = one.ready.url as string;
    const url2 = two.ready.url as string;
    const cross = await start('servers/fanout-load.ts', { URL: url2, WRITER_URL: url1, N: String(N), KIND: 'relay' });
    const same = await start('servers/fanout-load.ts', { URL: url1, WRITER_URL: url1, N: String(N), KIND: 'relay' });
    try {
      const row = await compare(
        ctx,
        {
          id: 4,
          name: `cross-relay ÷ same-relay deliveries/s (N = ${N})`,
          unit: 'deliveries/s',
          target: '>= 0.9',
          note: 'Two relays (own processes) on one Redis; writes always through relay 1; A: 100 subscribers on relay 2, B: on relay 1; same flow-controlled load process as measure 2.',
        },
        () => deliveries(cross, ms),
        () => deliveries(same, ms),
      );
      await Promise.all([assertNoRefusals(one, 'relay 1'), assertNoRefusals(two, 'relay 2')]);
      return [row];
    } finally {
      await Promise.all([cross.stop(), same.stop()]);
      await Promise.all([one.stop(), two.stop()]);
    }
  },
};
