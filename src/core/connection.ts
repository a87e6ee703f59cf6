/**
 * The socket to the relay as an explicit state machine over partysocket's reconnecting socket.
 * Internal states map onto the small public {@link ConnectionStatus}.
 */
import ReconnectingWebSocket from 'partysocket/ws';
import type { RelayLimits, ServerMessage } from '../protocol/index.js';

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
}

/** What the connection tells its owner. */
export interface ConnectionHandlers {
  /** The status changed. */
  status(status: ConnectionStatus): void;
  /** The socket is open and the relay has said hello: resubscribe and resend. */
  ready(): void;
  /** A message from the relay other than its welcome. */
  message(message: ServerMessage): void;
}

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
  limits: RelayLimits | undefined;

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
      maxReconnectionDelay: 10_000,
      reconnectionDelayGrowFactor: 1.5,
      connectionTimeout: 5000,
      maxEnqueuedMessages: 0,
    });
    this.#socket = socket;
    socket.addEventListener('message', (e: MessageEvent) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(e.data)) as ServerMessage;
      } catch {
        return; // not ours to crash on; the relay only sends JSON
      }
      if (message.type === 'welcome') {
        this.#everOpened = true;
        this.limits = message.limits;
        this.#ready = true;
        // Resubscribe and resend first, so 'open' listeners (catch-up) run after them.
        this.#on.ready();
        this.#setState('open');
        return;
      }
      this.#on.message(message);
    });
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#ready = false;
      const willRetry = reconnection && socket.shouldReconnect;
      this.#setState(willRetry ? 'reconnecting' : 'closed');
      if (!willRetry) this.#socket = undefined;
    });
  }
  /** Sends a frame when open; answers whether it went out. */
  send(frame: string): boolean {
    if (!this.#ready || !this.#socket || this.#socket.readyState !== 1) return false;
    this.#socket.send(frame);
    return true;
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
}
