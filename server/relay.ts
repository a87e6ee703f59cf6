/**
 * createRelay: HTTP and WebSocket on one port, wired to a store. HTTP answers `/health`; every
 * WebSocket upgrade from an allowed origin becomes a {@link Session}; every store event is
 * routed to subscribers.
 */
import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RedisOptions } from 'ioredis';
import { WebSocketServer } from 'ws';
import { DEFAULT_LIMITS, type DocumentLimits } from '../src/protocol/index.js';
import { type AuthOptions, createVerifier } from './auth/verify.js';
import { watchLiveness } from './heartbeat.js';
import { type ConnectionLimits, type RefusalReason, Refusals, UserConnections, checkConnectionLimits } from './limits.js';
import { Session } from './session.js';
import { createMemoryStore } from './store/memory.js';
import { createRedisStore } from './store/redis.js';
import type { Store, StoreEvent } from './store/types.js';
import { EventFrames, SubscriptionIndex } from './topics.js';

/** Options of {@link createRelay}. */
export interface RelayOptions {
  /** Port to listen on; 0 picks a free one. Default 8787. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Redis with the RedisJSON module (URL or ioredis options). Omitted: the in-memory store. */
  redis?: string | RedisOptions;
  /** A store you built yourself; overrides `redis`. The relay closes it on `close()`. */
  store?: Store;
  /** Prefix of every Redis key and channel. Default `syncdoc:`. */
  keyPrefix?: string;
  /**
   * Limits. Documents: 256 KiB serialized, depth 32. Connections: see {@link ConnectionLimits}
   * (writes and frames per second, subscriptions, connections per user, the auth deadline).
   */
  limits?: Partial<DocumentLimits & ConnectionLimits>;
  /** Writes kept per document for catch-up. Default 100. */
  changeLogSize?: number;
  /** Seconds a mutation id is remembered for replay (one small key per write). Default 3600. */
  mutationIdTtlSeconds?: number;
  /**
   * How tokens are checked: a JWT `secret` (HS256) or `publicKey` (RS256, ES256, EdDSA), with
   * optional `issuer` and `audience`; or your own `verify(token, request)`. Omitted: every
   * connection may read and write every document (said at start-up), and the relay refuses to
   * bind a non-loopback host unless `allowAnonymous` is set.
   */
  auth?: AuthOptions;
  /** Without `auth`, allow binding a host other than loopback. Default false. */
  allowAnonymous?: boolean;
  /**
   * Browser origins (`https://app.example.com`) allowed to open a WebSocket; others are refused
   * at the upgrade with 403. Requests without an `Origin` (non-browser clients) are not
   * affected. Default: every origin.
   */
  allowedOrigins?: string[];
  /**
   * How often the relay checks that its peers are alive, in ms: a socket silent for a round is
   * pinged (a WebSocket ping, answered by browsers and `ws` on their own), and one that stays
   * silent through the next round is cut, freeing its user's place and its subscriptions.
   * Default 30 000 (a vanished peer is gone within 60 to 90 s).
   */
  heartbeatMs?: number;
  /** Where the relay writes its few log lines. Default: `console.error`. */
  log?: (line: string) => void;
}

/** A running relay. */
export interface Relay {
  /** `http://HOST:PORT`; clients take it as is. */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  /** The store behind the relay. */
  readonly store: Store;
  /** Number of open client connections. */
  readonly connections: number;
  /** Refusals since start, by reason (bad tokens, rights, limits, origins). */
  readonly refusals: Record<RefusalReason, number>;
  /** Stops accepting, closes every socket and the store's connections. */
  close(): Promise<void>;
}

/** Starts a relay. Rejects when the port is taken or Redis (with RedisJSON) cannot be used. */
export async function createRelay(options: RelayOptions = {}): Promise<Relay> {
  const log = options.log ?? ((line: string) => console.error(`syncdoc-relay: ${line}`));
  const limits = { ...DEFAULT_LIMITS, ...checkConnectionLimits(options.limits), ...pick(options.limits) };
  const host = options.host ?? '127.0.0.1';
  if (!options.auth && !options.allowAnonymous && !isLoopback(host)) {
    throw new Error(
      `refusing to listen on ${host} without auth: anyone who can reach it could read and write every document. ` +
        'Configure auth, or set allowAnonymous (--allow-anonymous) if that is what you want.',
    );
  }
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  if (typeof heartbeatMs !== 'number' || !(heartbeatMs >= 10)) throw new Error(`heartbeatMs must be a number of ms, at least 10; got ${String(heartbeatMs)}`);
  const verify = options.auth ? createVerifier(options.auth, log) : undefined;
  const origins = options.allowedOrigins?.map(normalizeOrigin);
  const settings = {
    maxDocumentBytes: limits.maxDocumentBytes,
    ...(options.changeLogSize !== undefined && { changeLogSize: options.changeLogSize }),
    ...(options.mutationIdTtlSeconds !== undefined && { mutationIdTtlSeconds: options.mutationIdTtlSeconds }),
  };
  const store =
    options.store ??
    (options.redis !== undefined
      ? await createRedisStore({ redis: options.redis, keyPrefix: options.keyPrefix ?? 'syncdoc:', log, ...settings })
      : createMemoryStore(settings));

  const instance = randomBytes(6).toString('hex');
  const index = new SubscriptionIndex<Session>();
  // Frames are size-checked against the document limit after parsing (with a typed reply);
  // this cap, also announced to clients, only stops abuse.
  const maxFrameBytes = Math.max(4 * limits.maxDocumentBytes, 1 << 20);
  const refusals = new Refusals();
  const users = new UserConnections(limits.maxConnectionsPerUser);
  const ctx = { store, index, limits, maxFrameBytes, instance, log, verify, users, refusals };
  if (!verify) log('no auth configured: every connection may read and write every document');
  store.onEvent((event: StoreEvent) => {
    if (index.size === 0) return; // nobody to tell: do not even read the event
    const frames = new EventFrames(event);
    for (const [session, mode] of index.route(frames.topic, event.metadata, event.data)) session.sendEvent(frames, mode);
  });

  store.onEventGap(() => {
    log('the event stream from Redis was interrupted: asking clients to reconnect and catch up');
    for (const ws of wss.clients) ws.close(1012, 'events may have been missed: reconnect and catch up');
  });

  const http: Server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, store: store.kind, durable: store.durable, connections: wss.clients.size }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('syncdoc relay: connect with a WebSocket, or GET /health\n');
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes });
  const liveness = watchLiveness(wss, heartbeatMs);
  http.on('upgrade', (req, socket, head) => {
    // Node drops its own error handler on upgrade and ws adds one only in handleUpgrade: a
    // client that resets meanwhile must not crash the relay.
    socket.on('error', () => socket.destroy());
    const origin = req.headers.origin;
    if (origins && origin !== undefined && !origins.includes(origin)) {
      refusals.count('origin');
      socket.end(`HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\norigin ${origin.slice(0, 200)} is not allowed\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      liveness.track(ws);
      const session = new Session(ws, req, ctx);
      ws.on('message', (data, isBinary) => void session.receive(data as Buffer, isBinary));
      ws.on('close', () => session.dispose());
      ws.on('error', () => session.dispose());
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8787, host, () => {
      http.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    liveness.stop();
    await store.close();
    throw err;
  });
  const address = http.address() as AddressInfo;
  const bound = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${bound}:${address.port}`,
    port: address.port,
    store,
    get connections() {
      return wss.clients.size;
    },
    get refusals() {
      return refusals.snapshot();
    },
    close: () =>
      (closing ??= (async () => {
        liveness.stop();
        for (const ws of wss.clients) ws.close(1001, 'relay shutting down');
        // A peer that does not answer the close handshake would hold close() for ws's 30 s.
        const grace = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, 1000);
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        clearTimeout(grace);
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await store.close();
      })()),
  };
}

/** The document limits given (the rest of `limits` is checked by {@link checkConnectionLimits}). */
function pick(limits: Partial<DocumentLimits> | undefined): Partial<DocumentLimits> {
  const out: Partial<DocumentLimits> = {};
  if (limits?.maxDocumentBytes !== undefined) out.maxDocumentBytes = limits.maxDocumentBytes;
  if (limits?.maxDepth !== undefined) out.maxDepth = limits.maxDepth;
  return out;
}

/** Whether `host` is a loopback interface, reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** `https://App.example.com/` → `https://app.example.com`, as browsers send `Origin`. */
function normalizeOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new Error(`allowedOrigins: ${JSON.stringify(origin)} is not an origin like https://app.example.com`);
  }
  if (url.origin === 'null' || url.pathname !== '/' || url.search || url.hash) {
    throw new Error(`allowedOrigins: ${JSON.stringify(origin)} must be scheme://host[:port] only`);
  }
  return url.origin;
}
