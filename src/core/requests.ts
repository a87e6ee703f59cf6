/**
 * Requests in flight. Each gets a `rid`; it is sent when the connection is open and sent again
 * after every reconnect until answered. That is safe because reads are idempotent and every
 * write carries a mutation id the relay deduplicates. A request not answered in time fails:
 * `unavailable` if the relay was never reachable meanwhile, `timeout` otherwise.
 */
import { type ClientMessage, type ResultMessage, type ErrorMessage, SyncError } from '../protocol/index.js';
import type { Connection } from './connection.js';

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
  timer: ReturnType<typeof setTimeout> | undefined;
  sent: boolean;
};

/** Distributes `Omit` over a union, so each message kind keeps its own fields. */
export type WithoutRid<M> = M extends unknown ? Omit<M, 'rid'> : never;

/** Sends requests and matches answers to them. */
export class RequestTracker {
  #nextRid = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #connection: Connection;
  readonly #timeoutMs: number;

  constructor(connection: Connection, timeoutMs: number) {
    this.#connection = connection;
    this.#timeoutMs = timeoutMs;
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
        timer: undefined,
        sent: false,
      };
      this.#pending.set(rid, entry);
      if (!entry.queueWhileOffline) this.#arm(rid, entry);
      this.#transmit(rid, entry);
    });
  }

  /** (Re)starts the answer timer of one request. */
  #arm(rid: number, p: Pending): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      if (this.#pending.get(rid) !== p) return;
      this.#pending.delete(rid);
      p.reject(
        p.sent && this.#connection.status === 'open'
          ? new SyncError('timeout', `the relay did not answer ${p.type} within ${this.#timeoutMs} ms`)
          : new SyncError('unavailable', `the relay could not be reached within ${this.#timeoutMs} ms (${p.type})`),
      );
    }, this.#timeoutMs);
  }

  /** Sends again every request not yet answered (after a reconnect), oldest first. */
  resendAll(): void {
    // Subscribe frames are made afresh from the client's list on every connect, not resent.
    for (const [rid, p] of this.#pending) if (p.resend) this.#transmit(rid, p);
  }

  /**
   * Sends when open. A frame over the relay's announced limit fails here with `too_large`:
   * sent, it would only close the socket, and the resend after reconnecting would do it again.
   */
  #transmit(rid: number, p: Pending): void {
    const max = this.#connection.limits?.maxFrameBytes;
    if (max !== undefined && p.frame.length * 3 > max && new TextEncoder().encode(p.frame).length > max) {
      this.#pending.delete(rid);
      clearTimeout(p.timer);
      p.reject(new SyncError('too_large', `the request is over the relay's frame limit of ${max} bytes`));
      return;
    }
    const sent = this.#connection.send(p.frame);
    p.sent ||= sent;
    if (sent && p.queueWhileOffline) this.#arm(rid, p);
  }

  /** Settles the request an answer is for; answers for unknown rids are ignored. */
  settle(message: ResultMessage | ErrorMessage): void {
    const rid = message.rid as number; // (a rid of null matches nothing)
    const p = this.#pending.get(rid);
    if (!p) return;
    this.#pending.delete(rid);
    clearTimeout(p.timer);
    if (message.type === 'result') p.resolve(message.result);
    else p.reject(SyncError.from(message.error));
  }

  /**
   * The connection dropped: requests that are not resent end now (answered `null`: what they
   * did is redone from the client's own state), and offline-queued requests stop their timers
   * until they are resent.
   */
  connectionLost(): void {
    for (const [rid, p] of this.#pending) {
      if (!p.resend) {
        this.#pending.delete(rid);
        clearTimeout(p.timer);
        p.resolve(null);
        continue;
      }
      if (!p.queueWhileOffline) continue;
      clearTimeout(p.timer);
      p.timer = undefined;
    }
  }

  /** Fails everything in flight (the client was closed). */
  failAll(error: SyncError): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.#pending.clear();
  }
}
