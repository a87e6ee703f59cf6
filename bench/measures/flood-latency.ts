/**
 * 14 — write → event latency while another socket floods the relay ÷ the same latency without
 * it. The relay keeps its default connection limits: the flooding socket is answered for its
 * frame burst, refused, then closed (1008); the flooder reconnects and floods again for the
 * whole window, as an attacker would. The writers stay under the per-connection write rate.
 */
import { type BenchContext, type BenchRow, type Measure, pairedRow } from '../harness.js';
import { createDocs, freshPrefix } from '../support/docs.js';
import { start } from '../support/processes.js';

/** Writes per second over the 32 writer sockets: about 31 per socket, under the default 100. */
const RATE = 1000;

export const floodLatency: Measure = {
  key: 'flood-latency',
  id: 14,
  async run(ctx: BenchContext) {
    const ms = 2000 * ctx.scale;
    const prefix = freshPrefix('flood');
    const ids = Array.from({ length: 32 }, (_, i) => `d${i}`);
    await createDocs(ctx.redisUrl, prefix, 'bench', ids, { seq: 0, label: 'small document' });
    const relay = await start('servers/relay.ts', { REDIS_URL: ctx.redisUrl, KEY_PREFIX: prefix, DEFAULT_LIMITS: '1', ...(process.env.FLOOD_LIMITS && { LIMITS_JSON: process.env.FLOOD_LIMITS }) });
    const url = relay.ready.url as string;
    const load = await start('servers/latency-load.ts', { URL: url, KIND: 'relay' });
    const flooder = await start('servers/flooder.ts', { URL: url });
    try {
      const a50: number[] = [];
      const a99: number[] = [];
      const b50: number[] = [];
      const b99: number[] = [];
      const floods: Array<{ connections: number; frames: number; closes: Record<string, number> }> = [];
      const measure = async (p50: number[], p99: number[]) => {
        const r = await load.ask<{ p50: number; p99: number; samples: number }>({ type: 'latency', rate: RATE, ms }, 'latency');
        if (r.samples < RATE * (ms / 1000) * 0.9) throw new Error(`only ${r.samples} samples: writes were lost or refused`);
        p50.push(r.p50);
        p99.push(r.p99);
      };
      const flooded = async () => {
        // The flood covers the load's warm-up and its whole window.
        const flood = flooder.ask<(typeof floods)[number]>({ type: 'flood', ms: ms + 700 }, 'flood');
        await measure(a50, a99);
        floods.push(await flood);
      };
      for (let round = 0; round < ctx.rounds; round++) {
        if (round % 2 === 0) {
          await flooded();
          await measure(b50, b99);
        } else {
          await measure(b50, b99);
          await flooded();
        }
        const f = floods.at(-1)!;
        ctx.log(
          `  flood-latency: round ${round + 1}/${ctx.rounds}: p50 ${a50.at(-1)!.toFixed(2)}/${b50.at(-1)!.toFixed(2)} ms, p99 ${a99.at(-1)!.toFixed(2)}/${b99.at(-1)!.toFixed(2)} ms; ` +
            `flooder: ${f.connections} connections, ${f.frames} frames, closes ${JSON.stringify(f.closes)}`,
        );
      }
      const closedAsFlooding = floods.reduce((n, f) => n + (f.closes['1008'] ?? 0), 0);
      if (closedAsFlooding === 0) throw new Error('the flooding sockets were never closed as flooding (1008): the row would not measure a flood');
      const row = (q: string, as: number[], bs: number[], target: string): BenchRow =>
        pairedRow({ id: 14, name: `write → event latency ${q} at ${RATE} writes/s, another socket flooding ÷ none`, unit: 'ms', target, note: 'Relay (Redis store) with the default connection limits; A: row 3\'s latency load at a fixed rate while a flooder process sends pings as fast as its socket drains, is closed (1008) and reconnects for the whole window; B: the same load alone. Every write lands (samples checked).' }, as, bs);
      return [row('p50', a50, b50, '<= 1.5'), row('p99', a99, b99, '<= 2')];
    } finally {
      await Promise.all([load.stop(), flooder.stop()]);
      await relay.stop();
    }
  },
};
