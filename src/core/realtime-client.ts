/**
 * RealtimeClient: one connection to a relay, the Sync Client over it, and topic subscriptions
 * that survive reconnects. Framework-free; the React layer builds on it.
 */
import {
  type CatchUpResult,
  type EventFilter,
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
import { Connection, type ConnectionStatus, type RequestOptions, type WebSocketClass, type WithoutRid } from './connection.js';
import { Emitter, type Unsubscribe, callSafely } from './emitter.js';
import { type ClientSubscription, shapeFor, unionMode, wants, wireMode } from './subscriptions.js';
import { SyncClient, attempt } from './sync-client.js';
import type { ClientMessage, ResultMessage } from '../protocol/index.js';

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

/** What calls on a closed client fail with. */
const closedError = () => new SyncError('unavailable', 'the client is closed');

/** A connection to a syncdoc relay. */
export class RealtimeClient {
  /** Create, read, update and delete documents. */
  readonly sync: SyncClient;
  readonly #connection: Connection;
  readonly #emitter = new Emitter<ClientEvents>();
  readonly #subscriptions = new Map<string, ClientSubscription>();
  #nextSub = 1;
  #closed = false;
  /** disconnect() was called: stay offline until connect(), whatever is called meanwhile. */
  #offline = false;

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
    this.#connection = new Connection(
      { ...options, WebSocket: WebSocketImpl, requestTimeout: timeout },
      {
        status: (status) => this.#emitter.emit('status', status),
        ready: () => {
          // Subscriptions first, so no event of a resent write is missed.
          for (const [sub, s] of this.#subscriptions) this.#sendSubscribe(sub, s);
        },
        message: (message) => {
          if (message.type === 'event') this.#dispatch(message.event);
          else if (message.type === 'error') this.#emitter.emit('error', SyncError.from(message.error));
        },
      },
    );
    this.sync = new SyncClient((m) => this.request(m));
    if (options.autoConnect ?? true) this.#connection.open();
  }

  /** `connecting`, `open`, `reconnecting` or `closed`. */
  get status(): ConnectionStatus {
    return this.#connection.status;
  }

  /** Opens the connection (when created with `autoConnect: false`). */
  connect(): void {
    if (this.#closed) throw closedError();
    this.#offline = false;
    this.#connection.open();
  }

  /**
   * @internal Sends one request; used by the Sync Client and the document cache. With
   * `queueWhileOffline`, the timeout only runs while the request is on the wire, so a write made
   * offline waits for the connection however long that takes.
   */
  request(message: WithoutRid<ClientMessage>, options: RequestOptions = {}): Promise<ResultMessage['result']> {
    if (this.#closed) return Promise.reject(closedError());
    if (!options.queueWhileOffline && !this.#offline) this.#connection.open();
    return this.#connection.request(message, options);
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
    for (const s of matching) if (s.handler) callSafely(s.handler, shapeFor(event, s.returnMode ?? 'full'));
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
    const { topic, filter, returnMode } = options;
    const copy: ClientSubscription = { topic, filter: filter && { ...filter }, returnMode, handler: onEvent };
    this.#subscriptions.set(sub, copy);
    if (!this.#offline) this.#connection.open();
    if (this.#connection.status === 'open') this.#sendSubscribe(sub, copy);
    return sub;
  }

  #sendSubscribe(sub: string, s: ClientSubscription): void {
    // (JSON leaves out an undefined filter)
    this.#connection.request({ type: 'subscribe', sub, topic: s.topic, filter: s.filter, returnMode: wireMode(s) }, { resend: false }).catch((err: SyncError) => {
      if (this.#subscriptions.has(sub)) this.#emitter.emit('error', err);
    });
  }

  /** Ends a subscription; unknown ids are ignored. */
  unsubscribe(subId: string): void {
    if (!this.#subscriptions.delete(subId)) return;
    if (this.#connection.status === 'open') this.#connection.request({ type: 'unsubscribe', sub: subId }, { resend: false }).catch(() => {});
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
    this.#connection.reconnect();
  }

  /**
   * Goes offline until {@link RealtimeClient.connect}: the socket closes, subscriptions are
   * kept, and calls made meanwhile wait (then fail with `unavailable` after `requestTimeout`).
   */
  disconnect(): void {
    this.#offline = true;
    this.#connection.close();
  }

  /** Closes the connection for good; calls still waiting fail with `unavailable`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriptions.clear();
    this.#connection.close();
    this.#connection.failAll(closedError());
  }
}
