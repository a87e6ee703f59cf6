/** A syncdoc relay in its own process: Redis store (REDIS_URL, KEY_PREFIX), or memory when STORE=memory. */
import { createRelay } from '../../server/index.js';
import { onAsk, tell } from '../support/processes.js';

const relay = await createRelay({
  port: Number(process.env.PORT ?? 0),
  ...(process.env.STORE !== 'memory' && { redis: process.env.REDIS_URL!, keyPrefix: process.env.KEY_PREFIX ?? 'bench:' }),
  log: () => {},
});
onAsk(async (m) => {
  if (m.type === 'memory') {
    for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
    tell({ type: 'memory', ...process.memoryUsage(), connections: relay.connections });
  }
});
process.on('SIGTERM', () => void relay.close().then(() => process.exit(0)));
tell({ type: 'ready', url: relay.url, port: relay.port });
