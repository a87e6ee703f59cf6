/**
 * One client connection: parses and checks each frame, holds the connection's principal and
 * limits, runs requests through the request path, keeps the connection's subscriptions, and
 * answers every request with a result or a typed error. Nothing a client sends can throw out
 * of here.
 *
 * A connection is `authenticating` (on a relay with auth, until a valid first `auth` frame; it
 * is closed with 4401 after `authTimeoutMs`), then `open` (until its token expires unrefreshed,
 * which closes it with 4401), then `closed`.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import {
  type AuthInfo,
  type AuthRequest,
  type ClientMessage,
  type DocumentLimits,
  type ResultMessage,
  type ReturnMode,
  type ServerMessage,
  CLOSE_CODES,
  FrameError,
  PROTOCOL_VERSION,
  SyncError,
  invalid,
  parseClientMessage,
  timerAt,
} from '../src/protocol/index.js';
import { authorizeSubscription } from './auth/access.js';
import { ANYONE, type Caller, NOBODY, type Principal, callerOf } from './auth/principal.js';
import type { TokenVerifier } from './auth/verify.js';
import { type ConnectionLimits, type Refusals, TokenBucket, type UserConnections, rateLimited } from './limits.js';
import { FrameGate } from './frame-gate.js';
import { isDocumentRequest, runRequest } from './requests.js';
import { textOf } from './store/document-text.js';
import type { Store } from './store/types.js';
import type { EventFrames, Subscription, SubscriptionIndex } from './topics.js';

/** What a session needs from its relay. */
export interface SessionContext {
  store: Store;
  index: SubscriptionIndex<Session>;
  limits: DocumentLimits & ConnectionLimits;
  /** Largest frame the socket accepts (bigger ones close it with 1009). */
  maxFrameBytes: number;
  instance: string;
  log: (line: string) => void;
  /** Checks tokens; absent on a relay without auth, where every connection may do everything. */
  verify: TokenVerifier | undefined;
  users: UserConnections;
  refusals: Refusals;
}

/** The TCP socket under a ws WebSocket. */
type RawSocket = { cork(): void; uncork(): void; write(data: Buffer): boolean };
/** A socket whose unsent backlog passes this is cut; its client reconnects and catches up. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** When to ask again after a cap (subscriptions, connections): a place may have freed by then. */
const CAP_RETRY_MS = 5000;
/** How long a peer has to answer the relay's close before its socket is cut. */
const CLOSE_GRACE_MS = 1000;

/** A refused frame's `rid`, found without parsing it (the reply names it so the caller can retry). */
function ridOf(text: string | undefined): number | null {
  const m = text === undefined ? null : /"rid"\s*:\s*(\d{1,15})\b/.exec(text.slice(0, 200));
  return m ? Number(m[1]) : null;
}

/** Frames that may wait behind a token being verified (a client sends none: it waits for the welcome). */
const MAX_PARKED_FRAMES = 100;
const WRITES = new Set<ClientMessage['type']>(['create', 'replace', 'merge', 'mutate', 'delete']);
const ANONYMOUS: AuthInfo = { user: null, expiresAt: null, expiresIn: null };

/** One connected client. */
export class Session {
  private readonly subs = new Map<string, Subscription<Session>>();
  private state: 'authenticating' | 'verifying' | 'open' | 'closed';
  /**
   * Set while a subscribe waits for the store to start listening. Frames that arrive meanwhile
   * wait for it, so a read sent after a subscribe still runs after events flow, as it would
   * if the subscription took effect at once.
   */
  private listening: Promise<void> | undefined;
  private principal: Principal | undefined;
  /** Who asks, for the request path: anyone on a relay without auth, else its token's user and grants. */
  private caller: Caller;
  private readonly writes: TokenBucket;
  private readonly frames: TokenBucket;
  /** Frame-rate refusals left before the socket is closed as flooding (refilled one a second). */
  private readonly rateRefusals: TokenBucket;
  /** Holds frames while a token (the first, or a refreshed one) is verified. */
  private readonly gate: FrameGate;
  /** The auth deadline, then the token's expiry. */
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly request: IncomingMessage,
    private readonly ctx: SessionContext,
  ) {
    const { limits } = ctx;
    this.writes = new TokenBucket(limits.writesPerSecond, limits.writeBurst);
    this.frames = new TokenBucket(limits.framesPerSecond, limits.frameBurst);
    this.rateRefusals = new TokenBucket(1, limits.maxRateRefusals);
    this.gate = new FrameGate(MAX_PARKED_FRAMES, ctx.maxFrameBytes);
    if (ctx.verify) {
      this.state = 'authenticating';
      this.caller = NOBODY;
      this.timer = setTimeout(() => {
        if (this.state === 'verifying') {
          // The token came in time; its check did not (a slow verifier): not the client's fault.
          ctx.log(`a token's verification took over ${limits.authTimeoutMs} ms: asking the client to try again`);
          return this.refuse(null, new SyncError('unavailable', 'the relay could not verify the token in time; try again'), CLOSE_CODES.tryAgainLater);
        }
        ctx.refusals.count('auth_timeout');
        this.refuse(null, new SyncError('unauthorized', `no valid token within ${limits.authTimeoutMs} ms`));
      }, limits.authTimeoutMs);
    } else {
      this.state = 'open';
      this.caller = ANYONE;
      this.welcome(ANONYMOUS);
    }
  }

  /** (A getter: the state changes across awaits, which a narrowed `this.state` would hide.) */
  private get closed(): boolean {
    return this.state === 'closed';
  }

  /** Who the relay took this connection for, as the welcome and a refresh say it. */
  private authInfo(): AuthInfo {
    if (!this.principal) return ANONYMOUS;
    const expiresAt = this.principal.expiresAt;
    return { user: this.principal.user, expiresAt: expiresAt ?? null, expiresIn: expiresAt === undefined ? null : expiresAt - Date.now() };
  }

  private welcome(info: AuthInfo): void {
    const { ctx } = this;
    const { maxDocumentBytes, maxDepth } = ctx.limits;
    this.send({ type: 'welcome', instance: ctx.instance, protocol: PROTOCOL_VERSION, limits: { maxDocumentBytes, maxDepth, maxFrameBytes: ctx.maxFrameBytes }, ...info });
  }

  /**
   * Sends an event in `mode`: its whole WebSocket frame, one buffer for every socket, written as
   * it is unless the connection negotiated an extension (the relay offers none), which could
   * change how its frames look; then `ws` frames the event's JSON.
   */
  sendEvent(frames: EventFrames, mode: ReturnMode): void {
    if (this.state === 'closed') return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.ctx.log('cut a connection that was not reading its events');
      this.closeSocket(1013, 'too slow: reconnect and catch up');
      this.state = 'closed'; // once: later events would only log and close again
      return;
    }
    const raw = this.cork();
    if (raw && this.socket.readyState === this.socket.OPEN && this.socket.extensions === '') raw.write(frames.wire(mode));
    else this.socket.send(frames.frame(mode), { binary: false });
  }

  private corked = false;

  /**
   * Holds this socket's writes until the current burst of work is done: events that arrive
   * together from Redis then leave in one system call per socket instead of one per event
   * (writev was two thirds of the relay's time when fanning out).
   */
  private cork(): RawSocket | undefined {
    // ws keeps the TCP socket as _socket: ws has no public way to batch writes.
    const raw = (this.socket as unknown as { _socket?: RawSocket })._socket;
    if (!raw || this.corked) return raw;
    this.corked = true;
    raw.cork();
    process.nextTick(() => {
      this.corked = false;
      raw.uncork();
    });
    return raw;
  }

  private send(message: ServerMessage): void {
    this.sendText(JSON.stringify(message));
  }

  private sendText(text: string): void {
    if (this.state !== 'closed') this.socket.send(text);
  }

  private fail(rid: number | null, err: unknown): void {
    let error: SyncError;
    if (err instanceof SyncError) {
      error = err;
      if (error.code === 'internal' || error.code === 'unavailable') this.ctx.log(`${error.code}: ${error.message}`);
      else if (error.code === 'forbidden') this.ctx.refusals.count('forbidden');
    } else {
      this.ctx.log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      error = new SyncError('internal', 'the relay could not complete the request');
    }
    this.send({ type: 'error', rid, error: error.toJSON() });
  }

  /** Answers with `error` and closes the socket: a missing, refused or expired token (4401), or too many connections. */
  private refuse(rid: number | null, error: SyncError, code: number = CLOSE_CODES.unauthorized): void {
    if (this.state === 'closed') return;
    this.fail(rid, error);
    this.state = 'closed';
    clearTimeout(this.timer);
    this.closeSocket(code, error.message.slice(0, 120));
  }

  /**
   * Closes the socket, and cuts it if the peer has not answered the close within a second: a
   * peer that never does (one too slow to read, a flooder) would otherwise keep its user's
   * place and its subscriptions for ws's 30 s close timeout.
   */
  private closeSocket(code: number, reason: string): void {
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Handles one incoming frame. */
  async receive(raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): Promise<void> {
    if (this.state === 'closed') return;
    const text = isBinary ? undefined : Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(Array.isArray(raw) ? raw : [Buffer.from(raw)]).toString('utf8');
    // The rate is checked before the frame is parsed: a flood costs no parsing past its burst.
    if (!this.withinFrameRate(text)) return;
    let message: ClientMessage | undefined;
    let refusal: FrameError | undefined;
    const size = text?.length ?? 0;
    if (text === undefined) refusal = new FrameError(null, invalid('binary frames are not supported; send JSON text'));
    else {
      try {
        message = parseClientMessage(text, this.ctx.limits);
      } catch (err) {
        refusal = err instanceof FrameError ? err : new FrameError(null, err instanceof SyncError ? err : invalid(String(err)));
      }
    }
    const rid = message?.rid ?? refusal!.rid;
    if (refusal) return this.fail(refusal.rid, refusal.error);
    const m = message!;
    if (this.state === 'authenticating') {
      if (m.type !== 'auth') {
        return this.refuse(rid, new SyncError('unauthorized', 'authenticate first: the first frame must be {"type":"auth","rid":1,"token":"..."}'));
      }
      return this.gate.hold(this.authenticate(m));
    }
    // Frames sent right behind a token wait for its verdict, then run in order (or not at all).
    if (this.gate.holding) {
      if (!this.gate.admit(size)) {
        this.ctx.refusals.count('flood');
        return this.refuse(rid, rateLimited('too many frames sent before the token was verified: closing this connection'), CLOSE_CODES.policy);
      }
      // A refresh that arrives meanwhile is waited for too, so later frames see its grants.
      for (let g = this.gate.current; g; g = g === this.gate.current ? undefined : this.gate.current) await g;
      this.gate.release(size);
    }
    if (this.state !== 'open') return;
    if (WRITES.has(m.type)) {
      const wait = this.writes.take();
      if (wait > 0) {
        this.ctx.refusals.count('write_rate');
        const { writesPerSecond } = this.ctx.limits;
        return this.fail(rid, rateLimited(`over the write limit of ${writesPerSecond} per second for one connection; retry in ${wait} ms`, wait));
      }
    }
    // Frames sent behind a refreshed token run under its grants (or the old ones, if refused).
    return m.type === 'auth' ? this.gate.hold(this.answer(m)) : this.answer(m);
  }

  /** Runs one admitted request and sends its result or error. */
  private async answer(m: ClientMessage): Promise<void> {
    try {
      if (this.listening) {
        await this.listening.catch(() => {});
        // Closed meanwhile: dispose() has run, so nothing may be added for this session now.
        if (this.closed) return;
      }
      const result = await this.run(m);
      const text = textOf(result);
      // A document the store holds as text goes out as that text, not parsed and re-serialized.
      if (text !== undefined) this.sendText(`{"type":"result","rid":${m.rid},"result":${text}}`);
      else this.send({ type: 'result', rid: m.rid, result });
    } catch (err) {
      this.fail(m.rid, err);
    }
  }

  /**
   * Spends a frame token. Over the rate, the frame is refused with `rate_limited`; a socket that
   * keeps sending past its refusals is flooding and is closed (1008), so it costs the relay a
   * bounded number of replies.
   */
  private withinFrameRate(text: string | undefined): boolean {
    const wait = this.frames.take();
    if (wait === 0) return true;
    this.ctx.refusals.count('frame_rate');
    const rid = ridOf(text);
    if (this.rateRefusals.take() > 0) {
      this.ctx.refusals.count('flood');
      this.refuse(rid, rateLimited('too many frames: closing this connection'), CLOSE_CODES.policy);
      // Stop reading what it still sends: its close answer is not worth its flood.
      (this.socket as unknown as { _socket?: { pause(): void } })._socket?.pause();
      return false;
    }
    this.fail(rid, rateLimited(`over the frame limit of ${this.ctx.limits.framesPerSecond} per second; retry in ${wait} ms`, wait));
    return false;
  }

  /** The first `auth` frame: verify, take a place for the user, welcome. */
  private async authenticate(m: AuthRequest): Promise<void> {
    this.state = 'verifying';
    let principal: Principal;
    try {
      principal = await this.verified(m.token);
    } catch (err) {
      const e = err as SyncError;
      if (e.code === 'unavailable') return this.refuse(m.rid, e, CLOSE_CODES.tryAgainLater);
      this.ctx.refusals.count('unauthorized');
      return this.refuse(m.rid, e);
    }
    if (this.closed) return; // the socket went, or the deadline passed, meanwhile
    if (!this.ctx.users.admit(principal.user)) {
      this.ctx.refusals.count('connections_per_user');
      const max = this.ctx.limits.maxConnectionsPerUser;
      return this.refuse(m.rid, rateLimited(`user "${principal.user}" already holds ${max} connections, the most allowed`, CAP_RETRY_MS), CLOSE_CODES.tooManyConnections);
    }
    this.state = 'open';
    this.adopt(principal);
    this.welcome(this.authInfo());
  }

  /** Verifies a token; a token already expired is refused like any other. */
  private async verified(token: string | undefined): Promise<Principal> {
    const principal = await this.ctx.verify!(token, this.request);
    if (principal.expiresAt !== undefined && principal.expiresAt + this.ctx.verify!.graceMs <= Date.now()) {
      throw new SyncError('unauthorized', 'the token has expired');
    }
    return principal;
  }

  /** Makes `principal` this connection's, and closes the connection when its token expires. */
  private adopt(principal: Principal): void {
    this.principal = principal;
    this.caller = callerOf(principal);
    clearTimeout(this.timer);
    this.timer = undefined;
    if (principal.expiresAt === undefined) return;
    // The clock skew the verifier forgives on `exp` is forgiven here too.
    const closesAt = principal.expiresAt + this.ctx.verify!.graceMs;
    const expire = () => {
      this.ctx.refusals.count('token_expired');
      this.refuse(null, new SyncError('unauthorized', 'the token has expired: reconnect with a fresh one'));
    };
    timerAt(closesAt, expire, (timer) => (this.timer = timer));
  }

  /**
   * A token sent on the open socket: its grants apply at once, and every subscription they no
   * longer allow ends with a `forbidden` error naming it. A refused refresh leaves the
   * connection as it was, until the old token expires.
   */
  private async refresh(m: AuthRequest): Promise<AuthInfo> {
    if (!this.ctx.verify) return ANONYMOUS;
    let principal: Principal;
    try {
      principal = await this.verified(m.token);
    } catch (err) {
      if ((err as SyncError).code === 'unauthorized') this.ctx.refusals.count('unauthorized');
      throw err;
    }
    if (this.closed) return this.authInfo();
    if (principal.user !== this.principal!.user) {
      this.ctx.refusals.count('unauthorized');
      throw new SyncError('unauthorized', `a refreshed token must name the same user ("${this.principal!.user}"); open a new connection for another`);
    }
    this.adopt(principal);
    for (const sub of [...this.subs.values()]) {
      try {
        authorizeSubscription(this.caller.permissions, sub.topic, sub.filter);
      } catch (err) {
        this.drop(sub);
        this.ctx.refusals.count('forbidden');
        this.send({ type: 'error', rid: null, sub: sub.sub, error: (err as SyncError).toJSON() });
      }
    }
    return this.authInfo();
  }

  private async run(m: ClientMessage): Promise<ResultMessage['result']> {
    if (isDocumentRequest(m)) return runRequest(this.ctx.store, this.caller, m);
    switch (m.type) {
      case 'subscribe': {
        authorizeSubscription(this.caller.permissions, m.topic, m.filter);
        const existing = this.subs.get(m.sub);
        const max = this.ctx.limits.maxSubscriptions;
        if (!existing && this.subs.size >= max) {
          this.ctx.refusals.count('subscriptions');
          throw rateLimited(`a connection may hold at most ${max} subscriptions`, CAP_RETRY_MS);
        }
        if (existing) this.ctx.index.delete(existing);
        const sub: Subscription<Session> = { owner: this, sub: m.sub, topic: m.topic, filter: m.filter, mode: m.returnMode ?? 'full' };
        this.subs.set(m.sub, sub);
        this.ctx.index.add(sub);
        const listening = (this.listening = this.ctx.store.listen(true));
        try {
          // Confirmed only once events flow, so a read made after this sees no gap.
          await listening;
        } catch (err) {
          this.drop(sub);
          throw err;
        } finally {
          if (this.listening === listening) this.listening = undefined;
        }
        if (this.closed) this.drop(sub); // dispose() ran during the wait: leave nothing behind
        return null;
      }
      case 'unsubscribe': {
        const sub = this.subs.get(m.sub);
        if (sub) this.drop(sub);
        return null;
      }
      case 'auth':
        return this.refresh(m);
      case 'ping':
        return null;
    }
  }

  /** Drops every subscription and gives back the user's place; called when the socket closes. */
  dispose(): void {
    // (A principal is set only once its user was admitted.)
    if (this.principal && !this.released) {
      this.released = true;
      this.ctx.users.release(this.principal.user);
    }
    this.state = 'closed';
    clearTimeout(this.timer);
    for (const sub of this.subs.values()) this.drop(sub);
  }

  private released = false;

  private drop(sub: Subscription<Session>): void {
    // A subscription replaced under the same name is no longer this session's to drop.
    if (this.subs.get(sub.sub) === sub) this.subs.delete(sub.sub);
    this.ctx.index.delete(sub);
    if (this.ctx.index.size === 0) void this.ctx.store.listen(false);
  }
}
