/**
 * One connection to a relay: partysocket's reconnecting socket driven through the state machine
 * of {@link transition}, the token handshake ({@link ClientAuth}) and the heartbeat. Every
 * connection starts with an `auth` frame; nothing else goes out until the relay's welcome.
 * Nothing is dialled, and no WebSocket class is needed, until {@link Connection.dial}.
 */
import ReconnectingWebSocket from 'partysocket/ws';
import { type RelayLimits, type ServerMessage, type WelcomeMessage, PROTOCOL_VERSION, SyncError } from '../protocol/index.js';
import { isServerMessage } from '../protocol/check-server-message.js';
import type { ClientAuth } from './client-auth.js';
import { type ConnectionEvent, type ConnectionState, type ConnectionStatus, publicStatus, transition } from './connection-machine.js';
import { Heartbeat } from './heartbeat.js';

export type { ConnectionStatus } from './connection-machine.js';

/** The WebSocket class to use (browsers: the global one; Node 20: `ws`). */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => WebSocket;

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

/** Distributes `Omit` over a union, so each message kind keeps its own fields. */
export type WithoutRid<M> = M extends unknown ? Omit<M, 'rid'> : never;

/** Turns the relay's http(s) URL into the ws(s) URL to dial; a TypeError for anything else (or nothing). */
export function socketUrl(url: unknown): string {
  let u: URL | undefined;
  try {
    u = new URL(url as string);
  } catch {
    // told below
  }
  if (!/^(http|ws)s?:$/.test(u?.protocol ?? '')) {
    throw new TypeError(`RealtimeClient needs the relay url, http(s) or ws(s), e.g. { url: "http://localhost:8787" }, got ${String(url)}`);
  }
  u!.protocol = u!.protocol.replace('http', 'ws'); // http: -> ws:, https: -> wss:
  return u!.toString();
}

/** How a connection dials. */
export interface DialOptions {
  WebSocket?: WebSocketClass | (new (url: string) => unknown) | undefined;
  reconnection: boolean;
  heartbeatMs: number;
}

/** What a connection tells the client above it. */
export interface ConnectionHooks {
  /** A frame for the client: events, answers, errors (not the handshake's). */
  message(message: Exclude<ServerMessage, WelcomeMessage>): void;
  /** Welcomed: what waits may go out now, before `open` is announced (so its listeners run after). */
  welcomed(): void;
  /** The public status changed. */
  status(status: ConnectionStatus): void;
  /** A problem no call is waiting for. */
  error(err: SyncError): void;
  /** The connection stopped after a refusal: every waiting call fails with it. */
  refused(err: SyncError): void;
}

/** How a message about an unreachable relay starts (the cause, when known, follows a colon). */
export const cannotReach = (url: string): string => `cannot reach the relay at ${url}`;

/**
 * The error of a dial that failed: the URL, and the cause when the socket gives one. Node's `ws`
 * hands partysocket the socket's Error (with its `code`); browsers' WebSocket never says why.
 */
function unreachable(url: string, cause?: { code?: string; message?: string }): SyncError {
  const why =
    cause?.code === 'ECONNREFUSED'
      ? 'connection refused (ECONNREFUSED)'
      : cause?.message === 'TIMEOUT' // partysocket's: no open within connectionTimeout
        ? 'no answer within 5 s'
        : cause?.message || 'the WebSocket failed (browsers give no cause)';
  return new SyncError('unavailable', `${cannotReach(url)}: ${why}`);
}

/** A connection to one relay. */
export class Connection {
  #state: ConnectionState = 'idle';
  #status: ConnectionStatus = 'closed';
  #everOpened = false;
  #socket: ReconnectingWebSocket | undefined;
  #rid = 1;
  /** The rid of this socket's `auth` frame, whose answer is the welcome or a refusal. */
  #helloRid = 0;
  readonly #heartbeat: Heartbeat;
  /** What the relay announced in its last welcome. */
  limits: RelayLimits | undefined;
  /** Why the connection is down or not coming up; cleared by a welcome. */
  error: SyncError | undefined;

  constructor(
    readonly url: string,
    readonly options: DialOptions,
    readonly auth: ClientAuth,
    readonly hooks: ConnectionHooks,
  ) {
    const beat = options.heartbeatMs;
    this.#heartbeat = new Heartbeat(
      beat,
      () => this.send(JSON.stringify({ type: 'ping', rid: this.nextRid() })),
      () => {
        const again = options.reconnection;
        this.problem(new SyncError('unavailable', `the relay at ${url} stopped answering (nothing in ${2 * beat} ms)${again ? ': reconnecting' : ''}`));
        if (again) {
          this.#to('lost');
          this.#socket?.reconnect();
        } else this.stop();
      },
    );
  }

  /** The machine's state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The public status. */
  get status(): ConnectionStatus {
    return this.#status;
  }

  /** A fresh request id (pings and the handshake share the counter, so answers never mix up). */
  nextRid(): number {
    return this.#rid++;
  }

  /** Sends a frame when welcomed; says whether it went out. */
  send(frame: string): boolean {
    const sent = this.#state === 'open' && this.#socket?.readyState === 1;
    if (sent) this.#socket!.send(frame);
    return sent;
  }

  /** Sets why the connection is not coming up; each new problem is emitted once, not on every retry. */
  problem(err: SyncError): void {
    if (err.message === this.error?.message) return;
    this.error = err;
    this.hooks.error(err);
  }

  /** Moves the machine; tells the client when the public status changed. */
  #to(event: ConnectionEvent, beforeAnnounce?: () => void): void {
    const prev = this.#state;
    const next = transition(prev, event);
    if (next === prev) return;
    this.#state = next;
    if (next === 'open') {
      this.#everOpened = true;
      this.#heartbeat.start();
    } else {
      this.#heartbeat.stop();
      this.auth.stop();
    }
    beforeAnnounce?.();
    const status = publicStatus(next, this.#everOpened);
    if (status !== this.#status) this.hooks.status((this.#status = status));
  }

  /**
   * Dials the relay (no-op when a socket is there, or while refused). Throws a TypeError without
   * a WebSocket class: the first point where one is needed.
   */
  dial(): void {
    if (this.#socket || this.auth.refusal || this.#state === 'closed') return;
    const { url, options } = this;
    const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
    if (!WebSocket) throw new TypeError('RealtimeClient needs a WebSocket class: on Node 20, pass { WebSocket } from "ws"');
    const again = options.reconnection;
    this.#to('dial');
    const socket = new ReconnectingWebSocket(
      // Before every dial: a token function is asked for the token the first frame will carry.
      async () => (await this.auth.prepare(), url),
      [],
      {
        WebSocket,
        maxRetries: again ? Infinity : 0,
        // Jitter: each client waits a different first delay, so a restarted relay is not stampeded.
        minReconnectionDelay: 200 + Math.random() * 800,
        reconnectionDelayGrowFactor: 1.5,
        connectionTimeout: 5000,
        // Left at partysocket's defaults: maxReconnectionDelay (10 s), and maxEnqueuedMessages,
        // which never matters: frames go out only once welcomed (send).
        shouldReconnectOnClose: (e: CloseEvent) => this.auth.shouldReconnect(e.code, e.reason),
      },
    );
    this.#socket = socket;
    const mine = () => this.#socket === socket; // events of a socket let go of (closed, replaced) are ignored
    socket.addEventListener('open', () => {
      if (!mine()) return;
      this.#to('socket-open');
      socket.send(this.auth.helloFrame((this.#helloRid = this.nextRid())));
    });
    // A dial that failed: the token function's failure, or the socket's. (Its close came just
    // before, which without reconnection already let go of the socket.)
    socket.addEventListener('error', (e) => {
      if (mine() || !again) this.problem(this.auth.dialError ?? unreachable(url, (e as { error?: { code?: string } }).error));
    });
    socket.addEventListener('message', (e: MessageEvent) => mine() && this.#receive(e.data));
    socket.addEventListener('close', () => {
      if (!mine()) return;
      const refusal = this.auth.refusal;
      if (refusal) return this.#refuse(refusal);
      if (again && socket.shouldReconnect) return this.#to('drop');
      this.#socket = undefined;
      this.#to('stop');
    });
  }

  #receive(text: unknown): void {
    this.#heartbeat.heard();
    let message: unknown;
    try {
      message = JSON.parse(String(text));
    } catch {
      // reported below, with every other malformed frame
    }
    const hello = message as { type?: unknown; protocol?: unknown } | null;
    if (hello?.type === 'welcome' && hello.protocol !== PROTOCOL_VERSION) {
      // Another version of the relay: reconnecting would not help, so stop, and say why.
      this.#refuse(new SyncError('unavailable', `the relay speaks protocol ${String(hello.protocol)}, this client ${PROTOCOL_VERSION}: run matching versions of syncdoc on both ends`));
    } else if (!isServerMessage(message)) {
      this.hooks.error(new SyncError('internal', 'dropped a malformed frame from the relay'));
    } else if (message.type === 'welcome') {
      this.limits = message.limits;
      this.error = undefined;
      this.auth.welcomed(message);
      this.#to('welcome', () => this.hooks.welcomed());
    } else if (message.type !== 'event' && message.rid === this.#helloRid) {
      // The answer to the first frame: a refusal (the close follows), or, from a relay
      // without auth that welcomed us at once, a result with nothing new in it.
      if (message.type === 'error') this.#helloRefused(SyncError.from(message.error));
    } else if (message.type === 'error' && message.rid === null && message.sub === undefined && message.error.code === 'unauthorized') {
      // A token that expired: the close that follows says whether a fresh one mends it.
      this.auth.expired(SyncError.from(message.error));
    } else this.hooks.message(message);
  }

  /** The relay refused this connection's first frame. */
  #helloRefused(err: SyncError): void {
    // A refused token stops the client when the socket closes (#refuse says so then). Anything
    // else (too many connections for this user) is not the token's fault: keep trying.
    if (err.code !== 'unauthorized') return this.problem(err);
    this.error = err;
    this.auth.refused(err);
  }

  /** Stops after a refusal: no reconnect loop with a token the relay will not take. */
  #refuse(err: SyncError): void {
    this.error = err;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close();
    this.hooks.refused(err);
    this.#to('refuse');
    this.hooks.error(err);
  }

  /** Drops the socket and dials again at once. */
  reconnect(): void {
    this.#socket?.reconnect();
  }

  /** Closes the socket; with `final`, for good. */
  stop(final?: boolean): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000, 'client closed');
    this.#to(final ? 'close' : 'stop');
  }
}
