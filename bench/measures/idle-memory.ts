/**
 * 9 — relay memory per authenticated idle connection, 1000 connections: the relay's RSS (after
 * GC) with 1000 idle sockets open minus without, divided by 1000, against the 10 kB target.
 * The relay has `auth: { secret }`; each socket has a token of its own user (1000 users, one
 * connection each) and is counted once the relay has verified it and welcomed it, so the
 * figure includes what authentication keeps per connection (principal, permissions, the expiry
 * timer, the user's place in the per-user count).
 */
import { absolute, type Measure, sleep } from '../harness.js';
import { start } from '../support/processes.js';
import { assertNoRefusals, benchSecret } from '../support/relay-config.js';

const N = 1000;

export const idleMemory: Measure = {
  key: 'idle-memory',
  id: 9,
  async run(ctx) {
    const secret = benchSecret();
    const relay = await start('servers/relay.ts', { STORE: 'memory', AUTH_SECRET: secret }, ['--expose-gc']);
    const clients = await start('servers/idle-clients.ts');
    const memory = async () => (await relay.ask<{ rss: number; connections: number }>({ type: 'memory' }, 'memory'));
    const open = { type: 'open', url: relay.ready.url, n: N, secret };
    const perConnection: number[] = [];
    try {
      // A first open/close cycle warms up allocators and code paths.
      await clients.ask(open, 'opened');
      await clients.ask({ type: 'close' }, 'closed');
      for (let round = 0; round < ctx.rounds; round++) {
        await sleep(200);
        const before = await memory();
        await clients.ask(open, 'opened');
        await sleep(200);
        const after = await memory();
        if (after.connections < N) throw new Error(`only ${after.connections} connections open`);
        perConnection.push((after.rss - before.rss) / N);
        ctx.log(`  idle memory: round ${round + 1}/${ctx.rounds}: ${(perConnection.at(-1)! / 1024).toFixed(2)} kB per connection`);
        await clients.ask({ type: 'close' }, 'closed');
      }
      await assertNoRefusals(relay, 'the relay');
    } finally {
      await Promise.all([clients.stop(), relay.stop()]);
    }
    return [
      absolute(
        {
          id: 9,
          name: `relay memory per authenticated idle connection (${N} connections) ÷ 10 kB`,
          unit: 'bytes',
          target: '<= 1.0',
          note: 'Relay (auth: { secret }, memory store) RSS after GC with 1000 idle sockets (opened from another process, each authenticated with a token of its own user) minus without, per socket; ratio against the 10 kB target.',
        },
        perConnection,
        10 * 1024,
      ),
    ];
  },
};
