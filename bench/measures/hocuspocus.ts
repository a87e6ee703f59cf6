/**
 * 12 — syncdoc ÷ Hocuspocus, same machine, same run, same workload shape as 11: acked one-field
 * writes/s from 50 clients on 10 documents, and deliveries/s to 100 watchers of one document
 * (bench/peers/compare-peer.ts runs both; target >= 1.2 on both).
 *
 * How each side is built (one server process each, on the harness's Redis):
 * - syncdoc (A): bench/peers/syncdoc-relay.ts, `createRelay` from server/index.ts with the Redis
 *   store, defaults; clients are `RealtimeClient`s (WebSocket from `ws`): writes
 *   `realtime.sync.merge` of one small field, watchers `subscribe({ topic:
 *   'sync.bench.updated', filter: { id } })`.
 * - Hocuspocus (B): bench/peers/hocuspocus-server.ts, @hocuspocus/server 4.7.0 `new Server` with
 *   defaults (it declares Node 22+, but installs with an engine warning and runs on Node 20)
 *   and @hocuspocus/extension-redis 4.7.0 on the same Redis, its documented scale-out setup; no
 *   database extension (documents in memory, as ShareDB's in 11). Clients: @hocuspocus/provider
 *   4.7.0, one provider with its own HocuspocusProviderWebsocket (WebSocket from `ws`) each, on a
 *   fresh Y.Doc (yjs 13.6.33); a write is one `Y.Map#set`, acked by the server's SyncStatus
 *   (`unsyncedChanges` back to 0); watchers count on `Y.Map#observe`. Every Hocuspocus writer
 *   also receives the other writers' updates of its document: Yjs has no write-only connection.
 * Writers in the bench process, watchers in one child process (bench/peers/watchers.ts), for
 * both. BENCH_CPU_PROF=DIR writes CPU profiles of both servers and both watchers processes.
 */
import type { Measure } from '../harness.js';
import { comparePeer } from '../peers/compare-peer.js';
import { hocuspocusKit } from '../peers/hocuspocus-kit.js';

export const hocuspocus: Measure = {
  key: 'hocuspocus',
  id: 12,
  run: (ctx) =>
    comparePeer(ctx, {
      id: 12,
      label: 'Hocuspocus',
      kit: hocuspocusKit,
      kitName: 'hocuspocus',
      server: 'hocuspocus-server.ts',
      watchersWord: 'watchers',
      note:
        'A: syncdoc relay (Redis store) in one process, RealtimeClient merge / subscribe with filter { id }; ' +
        'B: @hocuspocus/server 4.7.0 (defaults) + @hocuspocus/extension-redis 4.7.0 on the same Redis in one process, ' +
        '@hocuspocus/provider 4.7.0 + yjs 13.6.33, one Y.Map set per write acked by SyncStatus / Y.Map observe.',
    }),
};
