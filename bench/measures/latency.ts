/**
 * 3 — write → subscriber event latency, p50 and p99, at half of the relay's max write rate ÷
 * raw WebSocket → Redis PUBLISH → WebSocket at the same rate. Servers in their own processes;
 * writers and the subscriber in one load process (one clock).
 */
import { type BenchContext, type BenchRow, type Measure, pairedRow } from '../harness.js';
import { createDocs, freshPrefix } from '../support/docs.js';
import { start } from '../support/processes.js';
import { assertNoRefusals } from '../support/relay-config.js';

export const latency: Measure = {
  key: 'latency',
  id: 3,
  async run(ctx: BenchContext) {
    const ms = 2000 * ctx.scale;
    const prefix = freshPrefix('lat');
    const ids = Array.from({ length: 32 }, (_, i) => `d${i}`);
    await createDocs(ctx.redisUrl, prefix, 'bench', ids, { seq: 0, label: 'small document' });
    const relay = await start('servers/relay.ts', { REDIS_URL: ctx.redisUrl, KEY_PREFIX: prefix });
    const bare = await start('servers/bare-publish.ts', { REDIS_URL: ctx.redisUrl });
    const relayLoad = await start('servers/latency-load.ts', { URL: relay.ready.url as string, KIND: 'relay' });
    const bareLoad = await start('servers/latency-load.ts', { URL: bare.ready.url as string, KIND: 'bare' });
    try {
      const { rate: max } = await relayLoad.ask<{ rate: number }>({ type: 'max', ms }, 'max');
      const rate = Math.round(max / 2);
      ctx.log(`  latency: relay max ${Math.round(max)} writes/s; measuring at ${rate}/s`);
      const a50: number[] = [];
      const a99: number[] = [];
      const b50: number[] = [];
      const b99: number[] = [];
      const run = async (load: typeof relayLoad, p50: number[], p99: number[]) => {
        const r = await load.ask<{ p50: number; p99: number; samples: number }>({ type: 'latency', rate, ms }, 'latency');
        if (r.samples < rate * (ms / 1000) * 0.5) throw new Error(`only ${r.samples} samples`);
        p50.push(r.p50);
        p99.push(r.p99);
      };
      for (let round = 0; round < ctx.rounds; round++) {
        if (round % 2 === 0) {
          await run(relayLoad, a50, a99);
          await run(bareLoad, b50, b99);
        } else {
          await run(bareLoad, b50, b99);
          await run(relayLoad, a50, a99);
        }
        ctx.log(`  latency: round ${round + 1}/${ctx.rounds}: p50 ${a50.at(-1)!.toFixed(2)}/${b50.at(-1)!.toFixed(2)} ms, p99 ${a99.at(-1)!.toFixed(2)}/${b99.at(-1)!.toFixed(2)} ms`);
      }
      const row = (q: string, as: number[], bs: number[], target: string): BenchRow =>
        pairedRow({ id: 3, name: `write → event latency ${q} at ${rate} writes/s (half of max)`, unit: 'ms', target, note: 'A: merge through the relay (Redis store) to a subscriber of the topic; B: a bare ws server PUBLISHing the frame to Redis and relaying it from its subscriber connection; same open-loop rate, writers and subscriber in one load process.' }, as, bs);
      await assertNoRefusals(relay, 'the relay'); // the max rate and the latencies are of writes done, not refused
      return [row('p50', a50, b50, '<= 1.5'), row('p99', a99, b99, '<= 2')];
    } finally {
      await Promise.all([relayLoad.stop(), bareLoad.stop()]);
      await Promise.all([relay.stop(), bare.stop()]);
    }
  },
};
