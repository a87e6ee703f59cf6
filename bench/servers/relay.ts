/**
 * A syncdoc relay in its own process: Redis store (REDIS_URL, KEY_PREFIX), or memory when
 * STORE=memory; with AUTH_SECRET, `auth: { secret }` (every socket must authenticate first);
 * with DEFAULT_LIMITS=1, the default connection limits instead of the raised bench ones.
 * IPC: memory -> memory (RSS after GC, connections); refusals -> refusals (counts by reason).
 */
import { createRelay } from '../../server/index.js';
import { onAsk, tell } from '../support/processes.js';
import { BENCH_LIMITS } from '../support/relay-config.js';

const secret = process.env.AUTH_SECRET;
const relay = await createRelay({
  port: Number(process.env.PORT ?? 0),
  ...(process.env.STORE !== 'memory' && { redis: process.env.REDIS_URL!, keyPrefix: process.env.KEY_PREFIX ?? 'bench:' }),
  ...(secret && { auth: { secret } }),
  // Measure the relay, not its per-connection rate limits (support/relay-config.ts); with
  // DEFAULT_LIMITS=1 the defaults stand, for the rows that measure the limits themselves.
  ...(process.env.DEFAULT_LIMITS !== '1' && { limits: BENCH_LIMITS }),
  ...(process.env.LIMITS_JSON && { limits: JSON.parse(process.env.LIMITS_JSON) as Record<string, number> }),
  log: () => {},
});
onAsk(async (m) => {
  if (m.type === 'memory') {
    for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
    tell({ type: 'memory', ...process.memoryUsage(), connections: relay.connections });
  } else if (m.type === 'refusals') {
    tell({ type: 'refusals', counts: relay.refusals });
  }
});
process.on('SIGTERM', () => void relay.close().then(() => process.exit(0)));
tell({ type: 'ready', url: relay.url, port: relay.port });
