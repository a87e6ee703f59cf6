/**
 * RealtimeClient: one connection to a relay, the Sync Client over it, and topic subscriptions
 * that survive reconnects. Framework-free; the React layer builds on it.
 *
 * The connection is partysocket's reconnecting socket as an explicit state machine (its states
 * map onto the small public {@link ConnectionStatus}), with the requests in flight over it.
 * Each request gets a `rid`; it is sent when the connection is open and sent again after every
 * reconnect until answered. That is safe because reads are idempotent and every write carries a
 * mutation id the relay deduplicates. A request not answered in time fails: `unavailable` if
 * the relay was never reachable meanwhile, `timeout` otherwise.
 */
import ReconnectingWebSocket from 'partysocket/ws';
import {
  type CatchUpResult,
  type ClientMessage,
  type ErrorMessage,
  type EventFilter,
  type RelayLimits,
  type ResultMessage,
  type ReturnMode,
  type SyncEvent,
  SyncError,
  assertDocId,
  assertFilter,
  assertRevision,
  assertService,
  assertTopic,
  invalid,
} from '../protocol/index.js';
import { isResultOf, isServerMessage } from '../protocol/check-server-message.js';
import { type ConnectionStatus, type RequestOptions, type WebSocketClass, type WithoutRid, socketUrl } from './connection.js';
import { Emitter, type Unsubscribe, callSafely } from './emitter.js';
import { type ClientSubscription, shapeFor, unionMode, wants, wireMode } from './subscriptions.js';
import { SyncClient, attempt } from './sync-client.js';

/** Options of {@link RealtimeClient}. */
export interface RealtimeClientOptions {
  /** The relay: `http(s)://` or `ws(s)://` URL. */
  url: string;
  /** Sent to the relay as `?token=`; a function is called on every (re)connect. */
  token?: string | (() => string | Promise<string>);
  /** Connect at once (default `true`); otherwise on the first call or {@link RealtimeClient.connect}. */
  autoConnect?: boolean;
  /** Reconnect after a drop, with backoff and jitter (default `true`). */
  reconnection?: boolean;
  /** WebSocket class; defaults to the global one. Node 20 has none: pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketClass | (new (url: string) => unknown);
  /** How long a call waits for the connection and the answer, in ms (default 10 000). */
  requestTimeout?: number;
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

/** The payload each event name delivers. */
export type RealtimeEventPayload<N extends RealtimeEventName> = N extends 'status'
  ? ConnectionStatus
  : N extends 'error'
    ? SyncError
    : SyncEvent;

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
  readonly #options: RealtimeClientOptions & { WebSocket: WebSocketClass; requestTimeout: number };
  #socket: ReconnectingWebSocket | undefined;
  #state: ConnectionStatus = 'closed';
  #everOpened = false;
  /** The relay has welcomed this socket: frames may go out. */
  #ready = false;
  /** What the relay announced in its last welcome. */
  #limits: RelayLimits | undefined;
  #nextRid = 1;
  readonly #pending = new Map<number, Pending>();

  constructor(options: RealtimeClientOptions) {
    if (typeof options?.url !== 'string') {
      throw new TypeError('RealtimeClient needs the relay url, e.g. { url: "http://localhost:8787" }');
    }
    const WebSocketImpl = (options.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket) as WebSocketClass | undefined;
    if (!WebSocketImpl) {
      throw new TypeError('RealtimeClient needs a WebSocket class: on Node 20, pass { WebSocket } from "ws"');
    }
    const timeout = options.requestTimeout ?? 10_000;
    if (!(timeout > 0)) throw new TypeError('requestTimeout must be a positive number (ms)');
    this.#options = { ...options, WebSocket: WebSocketImpl, requestTimeout: timeout };
    this.sync = new SyncClient((m) => this.request(m));
    if (options.autoConnect ?? true) this.#open();
  }

  /** `connecting`, `open`, `reconnecting` or `closed`. */
  get status(): ConnectionStatus {
    return this.#state;
  }

  /** Opens the connection (when created with `autoConnect: false`). */
  connect(): void {
    if (this.#closed) throw closedError();
    this.#offline = false;
    this.#open();
  }

  #setState(next: ConnectionStatus): void {
    if (next === this.#state) return;
    this.#state = next;
    if (next !== 'open') this.#connectionLost();
    this.#emitter.emit('status', next);
  }

  /** Dials the relay (no-op when already open or dialing). */
  #open(): void {
    if (this.#socket) return;
    const base = socketUrl(this.#options.url);
    const { token, reconnection = true } = this.#options;
    const withToken = (t: string) => {
      const u = new URL(base);
      u.searchParams.set('token', t);
      return u.toString();
    };
    // A token function is called on every (re)connect.
    const url = token === undefined ? base : typeof token === 'string' ? withToken(token) : async () => withToken(await token());
    this.#setState(this.#everOpened ? 'reconnecting' : 'connecting');
    const socket = new ReconnectingWebSocket(url, [], {
      WebSocket: this.#options.WebSocket,
      maxRetries: reconnection ? Infinity : 0,
      // Jitter: each client waits a different first delay, so a restarted relay is not stampeded.
      minReconnectionDelay: 200 + Math.random() * 800,
      reconnectionDelayGrowFactor: 1.5,
      connectionTimeout: 5000,
      // Left at partysocket's defaults: maxReconnectionDelay (10 s), and maxEnqueuedMessages,
      // which never matters: frames go out only while the socket is open (#transmit).
    });
    this.#socket = socket;
    socket.addEventListener('message', (e: MessageEvent) => {
      let message: unknown;
      try {
        message = JSON.parse(String(e.data));
      } catch {
        // reported below, with every other malformed frame
      }
      if (!isServerMessage(message)) {
        this.#emitter.emit('error', new SyncError('internal', 'dropped a malformed frame from the relay'));
      } else if (message.type === 'welcome') {
        this.#everOpened = true;
        this.#limits = message.limits;
        this.#ready = true;
        // Subscriptions first, so no event of a resent write is missed; then the requests not
        // answered yet (subscribe frames are made afresh from the list, never resent); then
        // 'open', so its listeners (catch-up) run after them.
        for (const [sub, s] of this.#subscriptions) this.#sendSubscribe(sub, s);
        for (const [rid, p] of this.#pending) if (p.resend !== false) this.#transmit(rid, p);
        this.#setState('open');
      } else if (message.type === 'event') {
        this.#dispatch(message.event);
      } else if (message.type === 'result' || message.rid !== null) {
        this.#settle(message);
      } else {
        this.#emitter.emit('error', SyncError.from(message.error));
      }
    });
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#ready = false;
      const willRetry = reconnection && socket.shouldReconnect;
      this.#setState(willRetry ? 'reconnecting' : 'closed');
      if (!willRetry) this.#socket = undefined;
    });
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
      p.reject(
        p.sent && this.#state === 'open'
          ? new SyncError('timeout', `the relay did not answer ${p.type} within ${ms} ms`)
          : new SyncError('unavailable', `the relay could not be reached within ${ms} ms (${p.type})`),
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
   * renewed after every reconnect; a refusal by the relay arrives as an `error` event.
   * `onEvent`, when given, receives exactly this subscription's events, in its return mode.
   */
  subscribe(options: SubscribeOptions, onEvent?: (event: SyncEvent) => void): string {
    if (typeof options !== 'object' || options === null) throw invalid('subscribe needs { topic, filter?, returnMode? }');
    assertTopic(options.topic);
    if (options.filter !== undefined) assertFilter(options.filter);
    if (options.returnMode !== undefined && !['full', 'diff', 'both'].includes(options.returnMode)) {
      throw invalid('returnMode must be "full", "diff" or "both"');
    }
    if (this.#closed) throw closedError();
    if (onEvent !== undefined && typeof onEvent !== 'function') throw invalid('subscribe: onEvent must be a function');
    const sub = `sub_${this.#nextSub++}`;
    const { topic, filter, returnMode = 'full' } = options;
    const copy: ClientSubscription = { topic, filter: filter && { ...filter }, returnMode, handler: onEvent };
    this.#subscriptions.set(sub, copy);
    if (!this.#offline) this.#open();
    if (this.#state === 'open') this.#sendSubscribe(sub, copy);
    return sub;
  }

  #sendSubscribe(sub: string, s: ClientSubscription): void {
    // (JSON leaves out an undefined filter)
    this.#request({ type: 'subscribe', sub, topic: s.topic, filter: s.filter, returnMode: wireMode(s) }, { resend: false }).catch((err: SyncError) => {
      if (this.#subscriptions.has(sub)) this.#emitter.emit('error', err);
    });
  }

  /** Ends a subscription; unknown ids are ignored. */
  unsubscribe(subId: string): void {
    if (!this.#subscriptions.delete(subId)) return;
    if (this.#state === 'open') this.#request({ type: 'unsubscribe', sub: subId }, { resend: false }).catch(() => {});
  }

  /**
   * Listens to `event` (every event), `event:<topic>` (events of one exact topic), `status`
   * (connection changes) or `error` (failures not tied to a call). Returns the function that stops it.
   */
  on<N extends RealtimeEventName>(name: N, handler: (payload: RealtimeEventPayload<N>) => void): Unsubscribe {
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
