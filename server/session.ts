/**
 * One client connection: parses and checks each frame, runs requests against the store, keeps
 * the connection's subscriptions, and answers every request with a result or a typed error.
 * Nothing a client sends can throw out of here.
 */
import type { WebSocket } from 'ws';
import {
  type ClientMessage,
  type DocumentLimits,
  type ResultMessage,
  type ReturnMode,
  type ServerMessage,
  FrameError,
  SyncError,
  invalid,
  parseClientMessage,
} from '../src/protocol/index.js';
import { authorizeSubscription } from './auth/access.js';
import { Permissions } from './auth/principal.js';
import { isDocumentRequest, runRequest } from './requests.js';
import { textOf } from './store/document-text.js';
import type { Store } from './store/types.js';
import type { EventFrames, Subscription, SubscriptionIndex } from './topics.js';

/** What a session needs from its relay. */
export interface SessionContext {
  store: Store;
  index: SubscriptionIndex<Session>;
  limits: DocumentLimits;
  /** Largest frame the socket accepts (bigger ones close it with 1009). */
  maxFrameBytes: number;
  instance: string;
  log: (line: string) => void;
}

const MAX_SUBSCRIPTIONS = 1000;
/** The TCP socket under a ws WebSocket. */
type RawSocket = { cork(): void; uncork(): void; write(data: Buffer): boolean };
/** A socket whose unsent backlog passes this is cut; its client reconnects and catches up. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** One connected client. */
export class Session {
  private readonly subs = new Map<string, Subscription<Session>>();
  private closed = false;
  /**
   * Set while a subscribe waits for the store to start listening. Frames that arrive meanwhile
   * wait for it, so a read sent after a subscribe still runs after events flow, as it would
   * if the subscription took effect at once.
   */
  private listening: Promise<void> | undefined;
  /** What this connection may do. */
  private permissions: Permissions = Permissions.EVERYTHING;

  constructor(
    private readonly socket: WebSocket,
    private readonly ctx: SessionContext,
  ) {
    this.send({ type: 'welcome', instance: ctx.instance, protocol: 1, limits: { ...ctx.limits, maxFrameBytes: ctx.maxFrameBytes } });
  }

  /**
   * Sends an event in `mode`: its whole WebSocket frame, one buffer for every socket, written as
   * it is unless the connection negotiated an extension (the relay offers none), which could
   * change how its frames look; then `ws` frames the event's JSON.
   */
  sendEvent(frames: EventFrames, mode: ReturnMode): void {
    if (this.closed) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.ctx.log('cut a connection that was not reading its events');
      this.socket.close(1013, 'too slow: reconnect and catch up');
      this.closed = true; // once: later events would only log and close again
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
    if (!this.closed) this.socket.send(text);
  }

  private fail(rid: number | null, err: unknown): void {
    let error: SyncError;
    if (err instanceof SyncError) {
      error = err;
      if (error.code === 'internal' || error.code === 'unavailable') this.ctx.log(`${error.code}: ${error.message}`);
    } else {
      this.ctx.log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      error = new SyncError('internal', 'the relay could not complete the request');
    }
    this.send({ type: 'error', rid, error: error.toJSON() });
  }

  /** Handles one incoming frame. */
  async receive(raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): Promise<void> {
    if (isBinary) {
      this.fail(null, invalid('binary frames are not supported; send JSON text'));
      return;
    }
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(Array.isArray(raw) ? raw : [Buffer.from(raw)]).toString('utf8');
    let message: ClientMessage;
    try {
      message = parseClientMessage(text, this.ctx.limits);
    } catch (err) {
      if (err instanceof FrameError) this.fail(err.rid, err.error);
      else this.fail(null, err);
      return;
    }
    try {
      if (this.listening) {
        await this.listening.catch(() => {});
        // Closed meanwhile: dispose() has run, so nothing may be added for this session now.
        if (this.closed) return;
      }
      const result = await this.run(message);
      const text = textOf(result);
      // A document the store holds as text goes out as that text, not parsed and re-serialized.
      if (text !== undefined) this.sendText(`{"type":"result","rid":${message.rid},"result":${text}}`);
      else this.send({ type: 'result', rid: message.rid, result });
    } catch (err) {
      this.fail(message.rid, err);
    }
  }

  private async run(m: ClientMessage): Promise<ResultMessage['result']> {
    if (isDocumentRequest(m)) return runRequest(this.ctx.store, this.permissions, m);
    switch (m.type) {
      case 'subscribe': {
        authorizeSubscription(this.permissions, m.topic, m.filter);
        const existing = this.subs.get(m.sub);
        if (!existing && this.subs.size >= MAX_SUBSCRIPTIONS) {
          throw invalid(`a connection may hold at most ${MAX_SUBSCRIPTIONS} subscriptions`);
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
      case 'ping':
        return null;
    }
  }

  /** Drops every subscription; called when the socket closes. */
  dispose(): void {
    this.closed = true;
    for (const sub of this.subs.values()) this.drop(sub);
  }

  private drop(sub: Subscription<Session>): void {
    // A subscription replaced under the same name is no longer this session's to drop.
    if (this.subs.get(sub.sub) === sub) this.subs.delete(sub.sub);
    this.ctx.index.delete(sub);
    if (this.ctx.index.size === 0) void this.ctx.store.listen(false);
  }
}
