/**
 * RealtimeClient: one connection to a relay, the Sync Client over it, and topic subscriptions
 * that survive reconnects. Framework-free; the React layer builds on it.
 *
 * The connection is partysocket's reconnecting socket as an explicit state machine (its states
 * map onto the small public {@link ConnectionStatus}), with the requests in flight over it.
 * Every connection starts with an `auth` frame carrying the token ({@link ClientAuth}); nothing
 * else is sent until the relay's welcome. A refused token stops the client: calls fail with
 * `unauthorized` until {@link RealtimeClient.connect}.
 * Each request gets a `rid`; it is sent when the connection is open and sent again after every
 * reconnect until answered. That is safe because reads are idempotent and every write carries a
 * mutation id the relay deduplicates. A request not answered in time fails: `unavailable` if
 * the relay was never reachable meanwhile, `timeout` otherwise.
 * Nothing is dialled, and no WebSocket class is needed, until the client connects: a client made
 * with `autoConnect: false` (as the React provider makes it) is safe to create while rendering
 * on the server.
 */
import ReconnectingWebSocket from 'partysocket/ws';
import {
  type AuthInfo,
  type CatchUpResult,
  type ClientMessage,
  type ErrorMessage,
  type EventFilter,
  type RelayLimits,
  type ResultMessage,
  type ReturnMode,
  type SyncEvent,
  PROTOCOL_VERSION,
  SyncError,
  assertDocId,
  assertFilter,
  assertRevision,
  assertService,
  assertTopic,
  invalid,
} from '../protocol/index.js';
import { isResultOf, isServerMessage } from '../protocol/check-server-message.js';
import { ClientAuth, type Identity, type TokenSource } from './client-auth.js';
import { Heartbeat } from './heartbeat.js';
import { type ConnectionStatus, type RequestOptions, type WebSocketClass, type WithoutRid, socketUrl } from './connection.js';
import { Emitter, type Unsubscribe, callSafely } from './emitter.js';
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

/** One request in flight. */
type Pending = RequestOptions & {
  frame: string;
  type: string;
  resolve: (result: ResultMessage['result']) => void;
  reject: (err: SyncError) => void;
  timer?: ReturnType<typeof setTimeout> | undefined;
  /** The frame went out at least once. */
  sent?: boolean;
};

/** What calls on a closed client fail with. */
const closedError = () => new SyncError('unavailable', 'the client is closed');

/** What the relay could not be reached is told with (the cause follows). */
const cannotReach = (url: string) => `cannot reach the relay at ${url}`;

/**
 * The error of a dial that failed: the URL, and the cause when the socket gives one. Node's `ws`
 * hands partysocket the socket's Error (with its `code`); browsers' WebSocket never says why.
 */
function unreachable(url: string, cause?: { code?: string; message?: string }): SyncError {
  const why =
    cause?.code === 'ECONNREFUSED'
      ? 'connection refused (ECONNREFUSED)'
      : cause?.message === 'TIMEOUT' // partysocket's: no open within connectionTimeout (see #open)
        ? 'no answer within 5 s'
        : cause?.message || 'the WebSocket failed (browsers give no cause)';
  return new SyncError('unavailable', `${cannotReach(url)}: ${why}`);
}

/** A connection to a syncdoc relay. */
export class RealtimeClient {
  /** Create, read, update and delete documents. */
  readonly sync: SyncClient;
  readonly #emitter = new Emitter<ClientEvents>();
  readonly #subscriptions = new Map<string, ClientSubscription>();
  #nextSub = 1;
  #closed = false;
  /** disconnect() was called: stay offline until connect(), whatever is called meanwhile. */
  #offline = false;
  readonly #options: RealtimeClientOptions & { requestTimeout: number };
  /** The relay's WebSocket URL. */
  readonly #url: string;
  #socket: ReconnectingWebSocket | undefined;
  #state: ConnectionStatus = 'closed';
  #everOpened = false;
  /** The relay has welcomed this socket: frames may go out. */
  #ready = false;
  /** What the relay announced in its last welcome. */
  #limits: RelayLimits | undefined;
  #nextRid = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #auth: ClientAuth;
  /** The rid of this socket's `auth` frame, whose answer is the welcome or a refusal. */
  #helloRid = 0;
  readonly #heartbeat: Heartbeat;
  /** Why the connection is down or not coming up (see {@link RealtimeClient.connectionError}). */
  #connectionError: SyncError | undefined;

  constructor(options: RealtimeClientOptions) {
    this.#url = socketUrl(options?.url);
    const timeout = options.requestTimeout ?? 10_000;
    if (!(timeout > 0)) throw new TypeError('requestTimeout must be a positive number (ms)');
    const beat = options.heartbeatMs ?? 20_000;
    if (!(beat > 0)) throw new TypeError('heartbeatMs must be a positive number (ms)');
    this.#heartbeat = new Heartbeat(
      beat,
      () => this.#socket?.send(JSON.stringify({ type: 'ping', rid: this.#nextRid++ })),
      () => {
        const again = this.#options.reconnection ?? true;
        this.#problem(new SyncError('unavailable', `the relay at ${this.#url} stopped answering (nothing in ${2 * beat} ms)${again ? ': reconnecting' : ''}`));
        if (again) this.#socket?.reconnect();
        else this.#closeSocket();
      },
    );
    this.#options = { ...options, requestTimeout: timeout };
    this.#auth = new ClientAuth(options.token, {
      refresh: (token) => this.#request({ type: 'auth', token }, { resend: false }) as Promise<AuthInfo | null>,
      error: (err) => this.#emitter.emit('error', err),
    });
    this.sync = new SyncClient((m) => this.request(m));
    if (options.autoConnect ?? true) this.#open();
  }

  /** `connecting`, `open`, `reconnecting` or `closed`. */
  get status(): ConnectionStatus {
    return this.#state;
  }

  /** Who the relay took this client for (its token's user and expiry), once welcomed. */
  get identity(): Identity | undefined {
    return this.#auth.identity;
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
    return this.#connectionError;
  }

  /** Opens the connection (when created with `autoConnect: false`, after `disconnect()`, or after a refused token). */
  connect(): void {
    if (this.#closed) throw closedError();
    this.#offline = false;
    if (this.#auth.refusal) {
      this.#auth.reset();
      this.#connectionError = undefined;
    }
    this.#open();
  }

  #setState(next: ConnectionStatus): void {
    if (next === this.#state) return;
    this.#state = next;
    if (next !== 'open') {
      this.#heartbeat.stop();
      this.#connectionLost();
    } else this.#heartbeat.start();
    this.#emitter.emit('status', next);
  }

  /** Sets why the connection is not coming up; each new problem is emitted once, not on every retry. */
  #problem(err: SyncError): void {
    if (err.message === this.#connectionError?.message) return;
    this.#connectionError = err;
    this.#emitter.emit('error', err);
  }

  /**
   * Dials the relay (no-op when already open or dialing, or while the token is refused). Throws
   * a TypeError without a WebSocket class: the first point where one is needed.
   */
  #open(): void {
    if (this.#socket || this.#auth.refusal) return;
    const base = this.#url;
    const { reconnection = true, WebSocket = (globalThis as { WebSocket?: WebSocketClass }).WebSocket } = this.#options;
    if (!WebSocket) throw new TypeError('RealtimeClient needs a WebSocket class: on Node 20, pass { WebSocket } from "ws"');
    this.#setState(this.#everOpened ? 'reconnecting' : 'connecting');
    const socket = new ReconnectingWebSocket(
      // Before every dial: a token function is asked for the token the first frame will carry.
      async () => (await this.#auth.prepare(), base),
      [],
      {
        WebSocket,
        maxRetries: reconnection ? Infinity : 0,
        // Jitter: each client waits a different first delay, so a restarted relay is not stampeded.
        minReconnectionDelay: 200 + Math.random() * 800,
        reconnectionDelayGrowFactor: 1.5,
        connectionTimeout: 5000,
        // Left at partysocket's defaults: maxReconnectionDelay (10 s), and maxEnqueuedMessages,
        // which never matters: frames go out only while the socket is open (#transmit).
        shouldReconnectOnClose: (e: CloseEvent) => this.#auth.shouldReconnect(e.code, e.reason),
      },
    );
    this.#socket = socket;
    socket.addEventListener('open', () => {
      if (this.#socket !== socket) return;
      this.#helloRid = this.#nextRid++;
      socket.send(this.#auth.helloFrame(this.#helloRid));
    });
    // A dial that failed: the token function's failure, or the socket's. (Its close came just
    // before, which without reconnection already let go of the socket.)
    socket.addEventListener('error', (e) => {
      if (this.#socket === socket || !reconnection) this.#problem(this.#auth.dialError ?? unreachable(base, (e as { error?: { code?: string } }).error));
    });
    socket.addEventListener('message', (e: MessageEvent) => {
      if (this.#socket !== socket) return; // a socket let go of (closed, or replaced)
      this.#heartbeat.heard();
      let message: unknown;
      try {
        message = JSON.parse(String(e.data));
      } catch {
        // reported below, with every other malformed frame
      }
      const hello = message as { type?: unknown; protocol?: unknown } | null;
      if (hello?.type === 'welcome' && hello.protocol !== PROTOCOL_VERSION) {
        // Another version of the relay: reconnecting would not help, so stop, and say why.
        this.#refuse(new SyncError('unavailable', `the relay speaks protocol ${String(hello.protocol)}, this client ${PROTOCOL_VERSION}: run matching versions of syncdoc on both ends`));
      } else if (!isServerMessage(message)) {
        this.#emitter.emit('error', new SyncError('internal', 'dropped a malformed frame from the relay'));
      } else if (message.type === 'welcome') {
        this.#everOpened = true;
        this.#limits = message.limits;
        this.#ready = true;
        this.#connectionError = undefined;
        this.#auth.welcomed(message);
        // Subscriptions first, so no event of a resent write is missed; then the requests not
        // answered yet (subscribe frames are made afresh from the list, never resent); then
        // 'open', so its listeners (catch-up) run after them.
        for (const [sub, s] of this.#subscriptions) this.#sendSubscribe(sub, s);
        for (const [rid, p] of this.#pending) if (p.resend !== false) this.#transmit(rid, p);
        this.#setState('open');
      } else if (message.type === 'event') {
        this.#dispatch(message.event);
      } else if (message.rid === this.#helloRid) {
        // The answer to the first frame: a refusal (the close follows), or, from a relay
        // without auth that welcomed us at once, a result with nothing new in it.
        if (message.type === 'error') this.#helloRefused(SyncError.from(message.error));
      } else if (message.type === 'result' || message.rid !== null) {
        this.#settle(message);
      } else {
        const err = SyncError.from(message.error);
        // A token that expired: the close that follows says whether a fresh one mends it.
        if (message.sub === undefined && err.code === 'unauthorized') this.#auth.expired(err);
        else if (message.sub !== undefined) this.#subscriptionEnded(message.sub, err);
        else this.#emitter.emit('error', err);
      }
    });
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#ready = false;
      const refusal = this.#auth.refusal;
      if (refusal) return this.#refuse(refusal);
      const willRetry = reconnection && socket.shouldReconnect;
      this.#setState(willRetry ? 'reconnecting' : 'closed');
      if (!willRetry) this.#socket = undefined;
    });
  }

  /** The relay refused this connection's first frame. */
  #helloRefused(err: SyncError): void {
    // A refused token stops the client when the socket closes (#refuse says so then). Anything
    // else (too many connections for this user) is not the token's fault: keep trying.
    if (err.code !== 'unauthorized') return this.#problem(err);
    this.#connectionError = err;
    this.#auth.refused(err);
  }

  /**
   * Stops after a refusal: no reconnect loop with a token the relay will not take. Every call
   * waiting, offline writes included, fails with the refusal, and new calls fail at once.
   */
  #refuse(err: SyncError): void {
    this.#connectionError = err;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close();
    for (const [rid, p] of this.#pending) {
      this.#drop(rid, p);
      p.reject(err);
    }
    this.#setState('closed');
    this.#emitter.emit('error', err);
  }

  /** Closes the socket; it stays closed until {@link RealtimeClient.connect} or a call opens it. */
  #closeSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#ready = false;
    socket?.close(1000, 'client closed');
    this.#setState('closed');
  }

  /**
   * @internal Sends one request; used by the Sync Client and the document cache. With
   * `queueWhileOffline`, the timeout only runs while the request is on the wire, so a write made
   * offline waits for the connection however long that takes.
   */
  request(message: WithoutRid<ClientMessage>, options: RequestOptions = {}): Promise<ResultMessage['result']> {
    if (this.#closed) return Promise.reject(closedError());
    const refusal = this.#auth.refusal;
    if (refusal) return Promise.reject(refusal);
    if (!options.queueWhileOffline && !this.#offline) this.#open();
    return this.#request(message, options);
  }

  /** Sends one request as it is; resolves with its result or rejects with a {@link SyncError}. */
  #request(message: WithoutRid<ClientMessage>, options: RequestOptions): Promise<ResultMessage['result']> {
    const rid = this.#nextRid++;
    const frame = JSON.stringify({ ...message, rid });
    return new Promise((resolve, reject) => {
      const entry: Pending = { frame, type: message.type, ...options, resolve, reject };
      this.#pending.set(rid, entry);
      if (!entry.queueWhileOffline) this.#arm(rid, entry);
      this.#transmit(rid, entry);
    });
  }

  /** (Re)starts the answer timer of one request. */
  #arm(rid: number, p: Pending): void {
    clearTimeout(p.timer);
    const ms = this.#options.requestTimeout;
    p.timer = setTimeout(() => {
      if (this.#pending.get(rid) !== p) return;
      this.#pending.delete(rid);
      // With the last connection error, told once (without repeating the URL).
      const reach = cannotReach(this.#url);
      const why = this.#connectionError?.message.replace(`${reach}: `, '');
      p.reject(
        p.sent && this.#state === 'open'
          ? new SyncError('timeout', `the relay did not answer ${p.type} within ${ms} ms`)
          : new SyncError('unavailable', `${reach} within ${ms} ms (${p.type})${why ? `: ${why}` : ''}`),
      );
    }, ms);
  }

  /** Takes a request out of those in flight and stops its timer. */
  #drop(rid: number, p: Pending): void {
    this.#pending.delete(rid);
    clearTimeout(p.timer);
  }

  /**
   * Sends when the relay has welcomed the socket. A frame over the relay's announced limit fails
   * here with `too_large`: sent, it would only close the socket, and the resend after
   * reconnecting would do it again.
   */
  #transmit(rid: number, p: Pending): void {
    const max = this.#limits?.maxFrameBytes;
    if (max !== undefined && p.frame.length * 3 > max && new TextEncoder().encode(p.frame).length > max) {
      this.#drop(rid, p);
      p.reject(new SyncError('too_large', `the request is over the relay's frame limit of ${max} bytes`));
      return;
    }
    const socket = this.#socket;
    const sent = this.#ready && socket?.readyState === 1;
    if (sent) socket!.send(p.frame);
    p.sent ||= sent;
    if (sent && p.queueWhileOffline) this.#arm(rid, p);
  }

  /** Settles the request an answer is for; answers for unknown rids are ignored. */
  #settle(message: ResultMessage | ErrorMessage): void {
    const rid = message.rid!;
    const p = this.#pending.get(rid);
    if (!p) return;
    this.#drop(rid, p);
    if (message.type === 'error') return p.reject(SyncError.from(message.error));
    if (isResultOf(p.type, message.result)) p.resolve(message.result);
    else p.reject(new SyncError('internal', `the relay answered ${p.type} with a malformed result`));
  }

  /**
   * The connection dropped: requests that are not resent end now (answered `null`: what they
   * did is redone from the client's own state), and offline-queued requests stop their timers
   * until they are resent.
   */
  #connectionLost(): void {
    this.#auth.stop();
    for (const [rid, p] of this.#pending) {
      if (p.resend === false) {
        this.#drop(rid, p);
        p.resolve(null);
      } else if (p.queueWhileOffline) {
        clearTimeout(p.timer);
      }
    }
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
    if (this.#closed) throw closedError();
    if (onEvent !== undefined && typeof onEvent !== 'function') throw invalid('subscribe: onEvent must be a function');
    if (onError !== undefined && typeof onError !== 'function') throw invalid('subscribe: onError must be a function');
    const sub = `sub_${this.#nextSub++}`;
    const { topic, filter, returnMode = 'full' } = options;
    // (T only names what the caller expects the events to carry: they reach it as they come)
    const copy: ClientSubscription = { topic, filter: filter && { ...filter }, returnMode, handler: onEvent as ClientSubscription['handler'], onError };
    this.#subscriptions.set(sub, copy);
    if (!this.#offline) this.#open();
    if (this.#state === 'open') this.#sendSubscribe(sub, copy);
    return sub;
  }

  #sendSubscribe(sub: string, s: ClientSubscription): void {
    // (JSON leaves out an undefined filter)
    this.#request({ type: 'subscribe', sub, topic: s.topic, filter: s.filter, returnMode: wireMode(s) }, { resend: false }).catch((err: SyncError) => {
      if (this.#subscriptions.get(sub) !== s) return;
      if (err.code === 'rate_limited' && err.retryAfterMs !== undefined) {
        // Too many frames at once (a reconnect resubscribing everything): ask again shortly.
        setTimeout(() => {
          if (this.#subscriptions.get(sub) === s && this.#state === 'open') this.#sendSubscribe(sub, s);
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
    if (this.#state === 'open') this.#request({ type: 'unsubscribe', sub: subId }, { resend: false }).catch(() => {});
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
    this.#socket?.reconnect();
  }

  /**
   * Goes offline until {@link RealtimeClient.connect}: the socket closes, subscriptions are
   * kept, and calls made meanwhile wait (then fail with `unavailable` after `requestTimeout`).
   */
  disconnect(): void {
    this.#offline = true;
    this.#closeSocket();
  }

  /** Closes the connection for good; calls still waiting fail with `unavailable`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriptions.clear();
    this.#closeSocket();
    // Calls still waiting fail.
    for (const [rid, p] of this.#pending) {
      this.#drop(rid, p);
      p.reject(closedError());
    }
  }
}
