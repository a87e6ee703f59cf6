/**
 * 11 — syncdoc ÷ ShareDB, same machine, same run: acked small-field writes/s from 50 clients on
 * 10 documents, and deliveries/s to 100 subscribers of one document (bench/peers/compare-peer.ts
 * runs both; target >= 1.2 on both).
 *
 * How each side is built (one server process each, on the harness's Redis):
 * - syncdoc (A): bench/peers/syncdoc-relay.ts, `createRelay` from server/index.ts with the Redis
 *   store (RedisJSON, one Lua script per write, events through Redis pub/sub), defaults.
 *   Clients: one `RealtimeClient` (WebSocket from `ws`) each; writes are `realtime.sync.merge`
 *   of one small field, subscribers `subscribe({ topic: 'sync.bench.updated', filter: { id } })`.
 * - ShareDB (B): bench/peers/sharedb-server.ts, sharedb 5.2.2 as its README shows: default
 *   in-memory database (MemoryDB), json0, `sharedb-redis-pubsub` 5.1.0 (node-redis 5) on the same
 *   Redis, `ws` + `@teamwork/websocket-json-stream` into `backend.listen`. sharedb-redis-pubsub's
 *   newest release accepts sharedb up to 5, hence 5.2.2 rather than 7. Clients: one
 *   `sharedb/lib/client` Connection (WebSocket from `ws`) each; writes are
 *   `submitOp([{ p: [field], od, oi }])` on a fetched document (acked by its callback; ShareDB
 *   sends a writer the ops it missed before the ack), subscribers `doc.subscribe()` + `op`.
 * Writers in the bench process, subscribers in one child process (bench/peers/watchers.ts), for
 * both. BENCH_CPU_PROF=DIR writes CPU profiles of both servers and both watchers processes.
 */
import type { Measure } from '../harness.js';
import { comparePeer } from '../peers/compare-peer.js';
import { sharedbKit } from '../peers/sharedb-kit.js';

export const sharedb: Measure = {
  key: 'sharedb',
  id: 11,
  run: (ctx) =>
    comparePeer(ctx, {
      id: 11,
      label: 'ShareDB',
      kit: sharedbKit,
      kitName: 'sharedb',
      server: 'sharedb-server.ts',
      watchersWord: 'subscribers',
      note:
        'A: syncdoc relay (Redis store) in one process, RealtimeClient merge / subscribe with filter { id }; ' +
        'B: ShareDB 5.2.2 (MemoryDB, json0) + sharedb-redis-pubsub 5.1.0 on the same Redis in one process, ' +
        'sharedb client submitOp on fetched docs / doc.subscribe.',
    }),
};
