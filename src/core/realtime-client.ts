/**
 * RealtimeClient: one connection to a relay ({@link Connection}: the socket, the token handshake
 * and the heartbeat as a state machine), the requests in flight over it ({@link Requests}), the
 * Sync Client, and topic subscriptions that survive reconnects. Framework-free; the React layer
 * builds on it. A refused token stops the client: calls fail with `unauthorized` until
 * {@link RealtimeClient.connect}. Nothing is dialled, and no WebSocket class is needed, until the
 * client connects: a client made with `autoConnect: false` (as the React provider makes it) is
 * safe to create while rendering on the server.
 */
import {
  type AuthInfo,
  type CatchUpResult,
  type ClientMessage,
  type EventFilter,
  type ResultMessage,
  type ReturnMode,
  type ServerMessage,
  type SyncEvent,
  type WelcomeMessage,
  SyncError,
  assertDocId,
  assertFilter,
  assertRevision,
  assertService,
  assertTopic,
  invalid,
} from '../protocol/index.js';
import { ClientAuth, type Identity, type TokenSource } from './client-auth.js';
import { Connection, type ConnectionStatus, type RequestOptions, type WebSocketClass, type WithoutRid, socketUrl } from './connection.js';
import { Emitter, type Unsubscribe, callSafely } from './emitter.js';
import { Requests } from './requests.js';
import { type ClientSubscription, shapeFor, unionMode, wants, wireMode } from './subscriptions.js';
import { SyncClient, attempt } from './sync-client.js';

/** Options of {@link RealtimeClient}. */
export interface RealtimeClientOptions {
  /** The relay: `http(s)://` or `ws(s)://` URL. */
  url: string;
  /**
   * The token, sent in each connection's first frame (never in the URL). A function is asked
   * before every (re)connect and again before the token expires; the new token is sent on the
   * open socket. A token the relay refuses stops the client (status `closed`,
   * {@link RealtimeClient.connectionError}) until `connect()`.
   */
  token?: TokenSource;
  /** Connect at once (default `true`); otherwise on the first call or {@link RealtimeClient.connect}. */
  autoConnect?: boolean;
  /** Reconnect after a drop, with backoff and jitter (default `true`). */
  reconnection?: boolean;
  /**
   * WebSocket class; defaults to the global one, looked up when the client connects. Node 20 has
   * none: pass `WebSocket` from `ws` (connecting without one throws a TypeError that says so).
   */
  WebSocket?: WebSocketClass | (new (url: string) => unknown);
  /** How long a call waits for the connection and the answer, in ms (default 10 000). */
  requestTimeout?: number;
  /**
   * After this long without a frame from the relay the client pings it; with no frame another
   * `heartbeatMs` later the connection is declared lost (status `reconnecting`, catch-up on
   * return), as a frozen relay or a dead network never closes it. In ms, default 20 000.
   */
  heartbeatMs?: number;
}

/** What to subscribe to. */
export interface SubscribeOptions {
  /** Exact topic or pattern with `*` for one segment, e.g. `sync.session.*`. */
  topic: string;
  /** Only events whose `id`/`service` metadata or top-level data fields equal these values. */
  filter?: EventFilter;
  /** `full` (default): `payload.data`; `diff`: `payload.diff`; `both`. */
  returnMode?: ReturnMode;
}

/** Events of {@link RealtimeClient.on}: `event`, `event:<topic>`, `status`, `error`. */
export type RealtimeEventName = 'event' | `event:${string}` | 'status' | 'error';

/** The payload each event name delivers; `T` types the documents of `event` payloads. */
export type RealtimeEventPayload<N extends RealtimeEventName, T = Record<string, unknown>> = N extends 'status'
  ? ConnectionStatus
  : N extends 'error'
    ? SyncError
    : SyncEvent<T>;

type ClientEvents = Record<string, SyncEvent | ConnectionStatus | SyncError>;

/** What calls on a closed client fail with. */
const closedError = () => new SyncError('unavailable', 'the client is closed');

/** A connection to a syncdoc relay. */
export class RealtimeClient {
  /** Create, read, update and delete documents. */
  readonly sync: SyncClient;
  readonly #emitter = new Emitter<ClientEvents>();
  readonly #subscriptions = new Map<string, ClientSubscription>();
  #nextSub = 1;
  /** disconnect() was called: stay offline until connect(), whatever is called meanwhile. */
  #offline = false;
  readonly #connection: Connection;
  readonly #requests: Requests;

  constructor(options: RealtimeClientOptions) {
    const url = socketUrl(options?.url);
    const timeout = options.requestTimeout ?? 10_000;
    if (!(timeout > 0)) throw new TypeError('requestTimeout must be a positive number (ms)');
    const heartbeatMs = options.heartbeatMs ?? 20_000;
    if (!(heartbeatMs > 0)) throw new TypeError('heartbeatMs must be a positive number (ms)');
    const emit = this.#emitter.emit.bind(this.#emitter);
    const auth = new ClientAuth(options.token, {
      refresh: (token) => this.#requests.send({ type: 'auth', token }, { resend: false }) as Promise<AuthInfo | null>,
      error: (err) => emit('error', err),
    });
    this.#connection = new Connection(url, { WebSocket: options.WebSocket, reconnection: options.reconnection ?? true, heartbeatMs }, auth, {
      message: (m) => this.#receive(m),
      // Subscriptions first, so no event of a resent write is missed; then the requests not
      // answered yet (subscribe frames are made afresh from the list, never resent); then
      // 'open', so its listeners (catch-up) run after them.
      welcomed: () => {
        for (const [sub, s] of this.#subscriptions) this.#sendSubscribe(sub, s);
        this.#requests.resend();
      },
      status: (status) => {
        if (status !== 'open') this.#requests.down();
        emit('status', status);
      },
      error: (err) => emit('error', err),
      // Every call waiting, offline writes included, fails with the refusal; new calls fail at once.
      refused: (err) => this.#requests.failAll(err),
    });
    this.#requests = new Requests(this.#connection, timeout);
    this.sync = new SyncClient((m) => this.request(m));
    if (options.autoConnect ?? true) this.#connection.dial();
  }

  /** `connecting`, `open`, `reconnecting` or `closed`. */
  get status(): ConnectionStatus {
    return this.#connection.status;
  }

  /** Who the relay took this client for (its token's user and expiry), once welcomed. */
  get identity(): Identity | undefined {
    return this.#connection.auth.identity;
  }

  /**
   * Why the connection is down or not coming up: `unauthorized` (the token was refused or
   * expired; calls fail at once until `connect()`), or `rate_limited` (the user holds too many
   * connections; the client keeps trying), or `unavailable`: the relay cannot be reached (the
   * message names the URL and, outside browsers, the cause, e.g. `connection refused
   * (ECONNREFUSED)`) or the token function threw or rejected; the client keeps trying. Each new
   * problem is also emitted as `error` once, not on every retry. Cleared once a connection is
   * welcomed.
   */
  get connectionError(): SyncError | undefined {
    return this.#connection.error;
  }

  /** Opens the connection (when created with `autoConnect: false`, after `disconnect()`, or after a refused token). */
  connect(): void {
    const c = this.#connection;
    if (c.state === 'closed') throw closedError();
    this.#offline = false;
    if (c.auth.refusal) {
      c.auth.reset();
      c.error = undefined;
    }
    c.dial();
  }

  /** A frame from the relay that is not the handshake's. */
  #receive(message: Exclude<ServerMessage, WelcomeMessage>): void {
    if (message.type === 'event') this.#dispatch(message.event);
    else if (message.type === 'result' || message.rid !== null) this.#requests.settle(message);
    else if (message.sub !== undefined) this.#subscriptionEnded(message.sub, SyncError.from(message.error));
    else this.#emitter.emit('error', SyncError.from(message.error));
  }

  /**
   * @internal Sends one request; used by the Sync Client and the document cache. With
   * `queueWhileOffline`, the timeout only runs while the request is on the wire, so a write made
   * offline waits for the connection however long that takes.
   */
  request(message: WithoutRid<ClientMessage>, options: RequestOptions = {}): Promise<ResultMessage['result']> {
    const c = this.#connection;
    if (c.state === 'closed') return Promise.reject(closedError());
    const refusal = c.auth.refusal;
    if (refusal) return Promise.reject(refusal);
    if (!options.queueWhileOffline && !this.#offline) c.dial();
    return this.#requests.send(message, options);
  }

  /**
   * Routes an event: each matching subscription's handler gets it shaped to that subscription's
   * return mode, and `event` / `event:<topic>` listeners get it once, carrying what the matching
   * subscriptions asked for. An event no subscription wants any more is dropped.
   */
  #dispatch(event: SyncEvent): void {
    const matching = [...this.#subscriptions.values()].filter((s) => wants(s, event));
    if (matching.length === 0) return;
    // One broken handler must not keep the event from the others (document caches among them).
    for (const s of matching) if (s.handler) callSafely(s.handler, shapeFor(event, s.returnMode));
    const shared = shapeFor(event, unionMode(matching));
    this.#emitter.emit('event', shared);
    this.#emitter.emit(`event:${event.topic}`, shared);
  }

  /**
   * Subscribes to a topic and returns the subscription id (`sub_1`, ...). The subscription is
   * renewed after every reconnect. `onEvent`, when given, receives exactly this subscription's
   * events, in its return mode. When the relay refuses the subscription, or ends it because a
   * refreshed token no longer allows it (`forbidden`), it is dropped and the error goes to
   * `onError` and to `error` listeners. `T` types `event.payload.data` (it is not checked at runtime).
   */
  subscribe<T extends object = Record<string, unknown>>(options: SubscribeOptions, onEvent?: (event: SyncEvent<T>) => void, onError?: (err: SyncError) => void): string {
    if (typeof options !== 'object' || options === null) throw invalid('subscribe needs { topic, filter?, returnMode? }');
    assertTopic(options.topic);
    if (options.filter !== undefined) assertFilter(options.filter);
    if (options.returnMode !== undefined && !['full', 'diff', 'both'].includes(options.returnMode)) {
      throw invalid('returnMode must be "full", "diff" or "both"');
    }
    const c = this.#connection;
    if (c.state === 'closed') throw closedError();
    if (onEvent !== undefined && typeof onEvent !== 'function') throw invalid('subscribe: onEvent must be a function');
    if (onError !== undefined && typeof onError !== 'function') throw invalid('subscribe: onError must be a function');
    const sub = `sub_${this.#nextSub++}`;
    const { topic, filter, returnMode = 'full' } = options;
    // (T only names what the caller expects the events to carry: they reach it as they come)
    const copy: ClientSubscription = { topic, filter: filter && { ...filter }, returnMode, handler: onEvent as ClientSubscription['handler'], onError };
    this.#subscriptions.set(sub, copy);
    if (!this.#offline) c.dial();
    if (c.status === 'open') this.#sendSubscribe(sub, copy);
    return sub;
  }

  #sendSubscribe(sub: string, s: ClientSubscription): void {
    // (JSON leaves out an undefined filter)
    this.#requests.send({ type: 'subscribe', sub, topic: s.topic, filter: s.filter, returnMode: wireMode(s) }, { resend: false }).catch((err: SyncError) => {
      if (this.#subscriptions.get(sub) !== s) return;
      if (err.code === 'rate_limited' && err.retryAfterMs !== undefined) {
        // Too many frames at once (a reconnect resubscribing everything): ask again shortly.
        setTimeout(() => {
          if (this.#subscriptions.get(sub) === s && this.status === 'open') this.#sendSubscribe(sub, s);
        }, err.retryAfterMs);
      } else if (err.code === 'forbidden' || err.code === 'invalid' || err.code === 'rate_limited') {
        // Asking again after a reconnect would be refused again.
        this.#subscriptionEnded(sub, err);
      } else {
        this.#emitter.emit('error', err); // kept: renewed after the next reconnect
      }
    });
  }

  /** The relay refused or ended a subscription: it is dropped, and its owner and `error` listeners hear why. */
  #subscriptionEnded(sub: string, err: SyncError): void {
    const s = this.#subscriptions.get(sub);
    if (!s) return;
    this.#subscriptions.delete(sub);
    if (s.onError) callSafely(s.onError, err);
    this.#emitter.emit('error', err);
  }

  /** Ends a subscription; unknown ids are ignored. */
  unsubscribe(subId: string): void {
    if (!this.#subscriptions.delete(subId)) return;
    if (this.status === 'open') this.#requests.send({ type: 'unsubscribe', sub: subId }, { resend: false }).catch(() => {});
  }

  /**
   * Listens to `event` (every event), `event:<topic>` (events of one exact topic), `status`
   * (connection changes) or `error` (failures not tied to a call). Returns the function that stops it.
   * `T` types the documents of events (`on<'event', Order>(…)`; it is not checked at runtime).
   */
  on<N extends RealtimeEventName, T extends object = Record<string, unknown>>(name: N, handler: (payload: RealtimeEventPayload<N, T>) => void): Unsubscribe {
    if (typeof handler !== 'function') throw invalid('on() needs a handler function');
    if (typeof name !== 'string' || !/^(event(:.*)?|status|error)$/s.test(name)) {
      throw invalid(`unknown event name ${JSON.stringify(name)}; use event, event:<topic>, status or error`);
    }
    return this.#emitter.on(name, handler as (payload: ClientEvents[string]) => void);
  }

  /** The changes to a document after revision `since`, or its snapshot if they are gone. */
  catchUp(service: string, id: string, since: number): Promise<CatchUpResult> {
    return attempt(() => {
      assertService(service);
      assertDocId(id);
      assertRevision(since, 'since');
      return this.request({ type: 'catchup', service, id, since }) as Promise<CatchUpResult>;
    });
  }

  /** Drops the socket and reconnects at once; calls in flight are resent. */
  reconnect(): void {
    this.#connection.reconnect();
  }

  /**
   * Goes offline until {@link RealtimeClient.connect}: the socket closes, subscriptions are
   * kept, and calls made meanwhile wait (then fail with `unavailable` after `requestTimeout`).
   */
  disconnect(): void {
    this.#offline = true;
    this.#connection.stop();
  }

  /** Closes the connection for good; calls still waiting fail with `unavailable`. */
  async close(): Promise<void> {
    if (this.#connection.state === 'closed') return;
    this.#subscriptions.clear();
    this.#connection.stop(true);
    this.#requests.failAll(closedError());
  }
}
