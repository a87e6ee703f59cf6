/**
 * 9 — relay memory per idle connection, 1000 connections: the relay's RSS (after GC) with 1000
 * idle sockets open minus without, divided by 1000, against the 10 kB target.
 */
import { absolute, type Measure, sleep } from '../harness.js';
import { start } from '../support/processes.js';

const N = 1000;

export const idleMemory: Measure = {
  key: 'idle-memory',
  id: 9,
  async run(ctx) {
    const relay = await start('servers/relay.ts', { STORE: 'memory' }, ['--expose-gc']);
    const clients = await start('servers/idle-clients.ts');
    const memory = async () => (await relay.ask<{ rss: number; connections: number }>({ type: 'memory' }, 'memory'));
    const perConnection: number[] = [];
    try {
      // A first open/close cycle warms up allocators and code paths.
      await clients.ask({ type: 'open', url: relay.ready.url, n: N }, 'opened');
      await clients.ask({ type: 'close' }, 'closed');
      for (let round = 0; round < ctx.rounds; round++) {
        await sleep(200);
        const before = await memory();
        await clients.ask({ type: 'open', url: relay.ready.url, n: N }, 'opened');
        await sleep(200);
        const after = await memory();
        if (after.connections < N) throw new Error(`only ${after.connections} connections open`);
        perConnection.push((after.rss - before.rss) / N);
        ctx.log(`  idle memory: round ${round + 1}/${ctx.rounds}: ${(perConnection.at(-1)! / 1024).toFixed(2)} kB per connection`);
        await clients.ask({ type: 'close' }, 'closed');
      }
    } finally {
      await Promise.all([clients.stop(), relay.stop()]);
    }
    return [
      absolute(
        {
          id: 9,
          name: `relay memory per idle connection (${N} connections) ÷ 10 kB`,
          unit: 'bytes',
          target: '<= 1.0',
          note: 'Relay RSS after GC with 1000 idle sockets (opened from another process) minus without, per socket; ratio against the 10 kB target.',
        },
        perConnection,
        10 * 1024,
      ),
    ];
  },
};
