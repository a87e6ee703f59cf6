/**
 * The Hocuspocus side of comparison 12, in one process, set up as its docs show: `new Server`
 * with its defaults (flushDelay 0: the updates of one event-loop turn go out as one merged
 * message; debounce 2 s for store hooks) and the `@hocuspocus/extension-redis` extension, its
 * documented way to run over Redis ("scale horizontally"), on the harness's Redis. No database
 * extension: documents live in memory (Y.Doc), as in ShareDB's case. Env: REDIS_URL.
 */
import { Redis } from '@hocuspocus/extension-redis';
import { Server } from '@hocuspocus/server';
import { serveChild } from './child.js';

serveChild(async () => {
  const redis = new URL(process.env.REDIS_URL!);
  const server = new Server({
    port: 0,
    address: '127.0.0.1',
    quiet: true,
    stopOnSignals: false,
    extensions: [new Redis({ host: redis.hostname, port: Number(redis.port || 6379), prefix: 'bench-hocuspocus' })],
  });
  await server.listen();
  return { info: { url: `ws://127.0.0.1:${server.address.port}` }, close: () => server.destroy() };
});
