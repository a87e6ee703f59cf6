/**
 * 1 — relay writes/s ÷ a bare process doing the same writes. Both servers run in their own
 * process against the same Redis; the same closed-loop load (32 sockets, one write in flight
 * each, a small-field merge per write, each on its own document) drives both.
 */
import type WebSocket from 'ws';
import { type BenchContext, type BenchRow, compare, type Measure } from '../harness.js';
import { createDocs, freshPrefix, uniqueMutationId } from '../support/docs.js';
import { closeSockets, closedLoop, openSockets } from '../support/load.js';
import { start } from '../support/processes.js';
import { assertNoRefusals } from '../support/relay-config.js';

const SOCKETS = 32;

/** One side of {@link compareWrites}. */
export interface WriteServer {
  /** What it is called in logs and refusal checks. */
  label: string;
  /** The server process, under bench/. */
  file: string;
  /** Its environment, beside REDIS_URL and KEY_PREFIX. */
  env?: Record<string, string>;
  /** One token per socket: each socket authenticates once before the load. */
  tokens?: string[];
  /** A relay from servers/relay.ts, whose refusals must stay at zero (every answer a write done). */
  relay?: boolean;
}

/**
 * Measure 1's load on two servers, alternately: each on its own documents under its own
 * prefix, 32 sockets, one small-field merge in flight each, each socket on its own document.
 */
export async function compareWrites(ctx: BenchContext, spec: Parameters<typeof compare>[1], a: WriteServer, b: WriteServer): Promise<BenchRow> {
  const ms = 2500 * ctx.scale;
  const ids = Array.from({ length: SOCKETS }, (_, i) => `d${i}`);
  const sides: Array<{ side: WriteServer; server: Awaited<ReturnType<typeof start>> }> = [];
  for (const side of [a, b]) {
    const prefix = freshPrefix(`w-${side.label.replace(/\W+/g, '-')}`);
    await createDocs(ctx.redisUrl, prefix, 'bench', ids, { n: 0, label: 'small document' });
    sides.push({ side, server: await start(side.file, { REDIS_URL: ctx.redisUrl, KEY_PREFIX: prefix, ...side.env }) });
  }
  const sockets: WebSocket[][] = [];
  for (const { side, server } of sides) {
    const t0 = performance.now();
    const tokens = side.tokens;
    sockets.push(await openSockets(server.ready.url as string, SOCKETS, tokens ? { token: (i) => tokens[i]! } : {}));
    if (tokens) ctx.log(`  ${SOCKETS} sockets opened and authenticated in ${(performance.now() - t0).toFixed(0)} ms`);
  }
  const frame = (i: number, seq: number) =>
    JSON.stringify({ type: 'merge', rid: seq + 1, service: 'bench', id: ids[i], data: { n: seq }, mutationId: uniqueMutationId() });
  try {
    const row = await compare(
      ctx,
      spec,
      () => closedLoop(sockets[0]!, frame, ms),
      () => closedLoop(sockets[1]!, frame, ms),
    );
    // Every answer counted must be a write done, not a rate_limited refusal.
    for (const { side, server } of sides) if (side.relay) await assertNoRefusals(server, side.label);
    return row;
  } finally {
    await closeSockets(sockets.flat());
    await Promise.all(sides.map(({ server }) => server.stop()));
  }
}

export const relayWrites: Measure = {
  key: 'relay-writes',
  id: 1,
  async run(ctx) {
    return [
      await compareWrites(
        ctx,
        {
          id: 1,
          name: 'relay writes/s ÷ bare WebSocket → EVALSHA → reply',
          unit: 'writes/s',
          target: '>= 0.8',
          note: 'A: the relay (Redis store) in its own process; B: a bare ws server calling the same Lua script with the same arguments; 32 sockets, one merge in flight each.',
        },
        { label: 'the relay', file: 'servers/relay.ts', relay: true },
        { label: 'bare', file: 'servers/bare-eval.ts' },
      ),
    ];
  },
};
