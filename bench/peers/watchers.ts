/**
 * N watchers of one document, in a process of their own (the same arrangement for every system):
 * each its own connection through the system's client library. Answers `count` with the writes
 * all of them have seen so far and this process's clock (ms since the epoch, sub-ms precision),
 * so the parent's rate does not include IPC delays. Env: KIT (syncdoc, sharedb, hocuspocus),
 * URL, DOC, N.
 */
import { serveChild } from './child.js';
import type { Watcher } from './kit.js';
import { KITS } from './kits.js';

serveChild(async () => {
  const kit = KITS[process.env.KIT!];
  if (!kit) throw new Error(`unknown KIT ${process.env.KIT}`);
  const n = Number(process.env.N);
  const watchers: Watcher[] = [];
  // Ten at a time: the servers accept that without queueing handshakes for long.
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => kit.watcher(process.env.URL!, process.env.DOC!)));
    watchers.push(...batch);
  }
  return {
    info: { watchers: watchers.length },
    handle: () => ({ total: watchers.reduce((sum, w) => sum + w.total, 0), at: performance.timeOrigin + performance.now() }),
    close: async () => {
      await Promise.all(watchers.map((w) => w.close()));
    },
  };
});
