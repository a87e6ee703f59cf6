/**
 * The connection to the relay: partysocket's reconnecting socket as an explicit state machine
 * (its states map onto the small public {@link ConnectionStatus}), and the requests in flight
 * over it.
 *
 * Each request gets a `rid`; it is sent when the connection is open and sent again after every
 * reconnect until answered. That is safe because reads are idempotent and every write carries a
 * mutation id the relay deduplicates. A request not answered in time fails: `unavailable` if
 * the relay was never reachable meanwhile, `timeout` otherwise.
 */
import ReconnectingWebSocket from 'partysocket/ws';
import { isResultOf, isServerMessage } from '../protocol/check-server-message.js';
import {
  type ClientMessage,
  type ErrorMessage,
  type RelayLimits,
  type ResultMessage,
  type ServerMessage,
  SyncError,
} from '../protocol/index.js';

/** The connection as users see it. */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The WebSocket class to use (browsers: the global one; Node 20: `ws`). */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => WebSocket;

/** How to open the connection. */
export interface ConnectionOptions {
  url: string;
  token?: string | (() => string | Promise<string>);
  /** Reconnect after a drop (default `true`). */
  reconnection?: boolean;
  WebSocket: WebSocketClass;
  /** How long a request waits, in ms. */
  requestTimeout: number;
}

/** What the connection tells its owner. */
export interface ConnectionHandlers {
  /** The status changed. */
  status(status: ConnectionStatus): void;
  /** The socket is open and the relay has said hello: resubscribe (requests not answered yet are resent next). */
  ready(): void;
  /** A message from the relay that is not its welcome nor the answer to a request: an event, or an error without a rid. */
  message(message: ServerMessage): void;
}

/** How one request waits. */
export interface RequestOptions {
  /** Time the answer from when the frame goes out (not from the call), so offline writes wait. */
  queueWhileOffline?: boolean;
  /**
   * Send again after a reconnect (default true). Subscribe and unsubscribe say false: after a
   * reconnect the client rebuilds subscriptions from its own list, so an old frame must not
   * come back (it could revive a subscription dropped meanwhile).
   */
  resend?: boolean;
}

type Pending = {
  frame: string;
  type: string;
  queueWhileOffline: boolean;
  resend: boolean;
  resolve: (result: ResultMessage['result']) => void;
  reject: (err: SyncError) => void;
  timer?: ReturnType<typeof setTimeout> | undefined;
  /** The frame went out at least once. */
  sent?: boolean;
};

/** Distributes `Omit` over a union, so each message kind keeps its own fields. */
export type WithoutRid<M> = M extends unknown ? Omit<M, 'rid'> : never;

/** Turns the relay's http(s) URL into the ws(s) URL to dial. */
export function socketUrl(url: string): string {
  const u = new URL(url);
  u.protocol = u.protocol.replace('http', 'ws'); // http: -> ws:, https: -> wss:
  if (!/^wss?:$/.test(u.protocol)) throw new TypeError(`relay url must be http(s) or ws(s), got ${url}`);
  return u.toString();
}

/** One logical connection that survives drops; closed until {@link Connection.open}. */
export class Connection {
  readonly #options: ConnectionOptions;
  readonly #on: ConnectionHandlers;
  #socket: ReconnectingWebSocket | undefined;
  #state: ConnectionStatus = 'closed';
  #everOpened = false;
  /** The relay has welcomed this socket: frames may go out. */
  #ready = false;
  /** What the relay announced in its last welcome. */
  #limits: RelayLimits | undefined;
  #nextRid = 1;
  readonly #pending = new Map<number, Pending>();

  constructor(options: ConnectionOptions, on: ConnectionHandlers) {
    this.#options = options;
    this.#on = on;
  }

  get status(): ConnectionStatus {
    return this.#state;
  }

  #setState(next: ConnectionStatus): void {
    if (next === this.#state) return;
    this.#state = next;
    if (next !== 'open') this.#connectionLost();
    this.#on.status(next);
  }

  /** Dials the relay (no-op when already open or dialing). */
  open(): void {
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
        this.#on.message({ type: 'error', rid: null, error: new SyncError('internal', 'dropped a malformed frame from the relay') });
        return;
      }
      if (message.type === 'welcome') {
        this.#everOpened = true;
        this.#limits = message.limits;
        this.#ready = true;
        // Resubscribe and resend first, so 'open' listeners (catch-up) run after them.
        this.#on.ready();
        // Subscribe frames are made afresh from the client's list on every connect, not resent.
        for (const [rid, p] of this.#pending) if (p.resend) this.#transmit(rid, p);
        this.#setState('open');
      } else if (message.type === 'result' || (message.type === 'error' && message.rid !== null)) {
        this.#settle(message);
      } else {
        this.#on.message(message);
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

  /** Drops the socket now and lets the reconnect logic dial again (tests, "go offline"). */
  reconnect(): void {
    this.#socket?.reconnect();
  }

  /** Closes the socket and stays closed until {@link Connection.open}. */
  close(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#ready = false;
    socket?.close(1000, 'client closed');
    this.#setState('closed');
  }

  /** Sends one request; resolves with its result or rejects with a {@link SyncError}. */
  request(message: WithoutRid<ClientMessage>, options: RequestOptions = {}): Promise<ResultMessage['result']> {
    const rid = this.#nextRid++;
    const frame = JSON.stringify({ ...message, rid });
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        frame,
        type: message.type,
        queueWhileOffline: options.queueWhileOffline ?? false,
        resend: options.resend ?? true,
        resolve,
        reject,
      };
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
      if (!p.resend) {
        this.#drop(rid, p);
        p.resolve(null);
      } else if (p.queueWhileOffline) {
        clearTimeout(p.timer);
        p.timer = undefined;
      }
    }
  }

  /** Fails every request in flight (the client was closed). */
  failAll(error: SyncError): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.#pending.clear();
  }
}
