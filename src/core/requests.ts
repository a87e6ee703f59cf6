/**
 * The requests in flight over a connection. Each gets a `rid`; it is sent when the connection is
 * open and sent again after every reconnect until answered. That is safe because reads are
 * idempotent and every write carries a mutation id the relay deduplicates. A request not
 * answered in time fails: `unavailable` if the relay was never reachable meanwhile, `timeout`
 * ("may have been applied") once it went out.
 */
import { type ClientMessage, type ErrorMessage, type ResultMessage, SyncError } from '../protocol/index.js';
import { isResultOf } from '../protocol/check-server-message.js';
import { type Connection, type RequestOptions, type WithoutRid, cannotReach } from './connection.js';

type Result = ResultMessage['result'];

/** One request in flight. */
interface Pending extends RequestOptions {
  frame: string;
  type: string;
  resolve: (result: Result) => void;
  reject: (err: SyncError) => void;
  timer?: ReturnType<typeof setTimeout> | undefined;
  /** The frame went out at least once. */
  sent?: boolean;
}

/** The requests of one connection. */
export class Requests {
  readonly #pending = new Map<number, Pending>();

  constructor(
    readonly connection: Connection,
    readonly timeout: number,
  ) {}

  /**
   * Sends one request as it is; resolves with its result or rejects with a {@link SyncError}.
   * With `queueWhileOffline`, the timeout only runs while the request is on the wire, so a write
   * made offline waits for the connection however long that takes.
   */
  send(message: WithoutRid<ClientMessage>, options: RequestOptions = {}): Promise<Result> {
    const rid = this.connection.nextRid();
    const frame = JSON.stringify({ ...message, rid });
    return new Promise((resolve, reject) => {
      const p: Pending = { frame, type: message.type, ...options, resolve, reject };
      this.#pending.set(rid, p);
      if (!p.queueWhileOffline) this.#arm(rid, p);
      this.#transmit(rid, p);
    });
  }

  /** The connection was welcomed: what is not answered yet goes out again. */
  resend(): void {
    for (const [rid, p] of this.#pending) if (p.resend !== false) this.#transmit(rid, p);
  }

  /**
   * The connection dropped: requests that are not resent end now (answered `null`: what they
   * did is redone from the client's own state), and offline-queued requests stop their timers
   * until they are resent.
   */
  down(): void {
    for (const [rid, p] of this.#pending) {
      if (p.resend === false) {
        this.#drop(rid, p);
        p.resolve(null);
      } else if (p.queueWhileOffline) clearTimeout(p.timer);
    }
  }

  /** Settles the request an answer is for; answers for unknown rids are ignored. */
  settle(message: ResultMessage | ErrorMessage): void {
    const rid = message.rid!;
    const p = this.#pending.get(rid);
    if (!p) return;
    this.#drop(rid, p);
    if (message.type === 'error') p.reject(SyncError.from(message.error));
    else if (isResultOf(p.type, message.result)) p.resolve(message.result);
    else p.reject(new SyncError('internal', `the relay answered ${p.type} with a malformed result`));
  }

  /** Fails every request waiting (a refusal, or the client closed). */
  failAll(err: SyncError): void {
    for (const [rid, p] of this.#pending) {
      this.#drop(rid, p);
      p.reject(err);
    }
  }

  /** (Re)starts the answer timer of one request. */
  #arm(rid: number, p: Pending): void {
    clearTimeout(p.timer);
    const ms = this.timeout;
    p.timer = setTimeout(() => {
      if (this.#pending.get(rid) !== p) return;
      this.#pending.delete(rid);
      const { connection } = this;
      // With the last connection error, told once (without repeating the URL).
      const reach = cannotReach(connection.url);
      const why = connection.error?.message.replace(`${reach}: `, '');
      p.reject(
        p.sent && connection.status === 'open'
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
    const max = this.connection.limits?.maxFrameBytes;
    if (max !== undefined && p.frame.length * 3 > max && new TextEncoder().encode(p.frame).length > max) {
      this.#drop(rid, p);
      p.reject(new SyncError('too_large', `the request is over the relay's frame limit of ${max} bytes`));
      return;
    }
    const sent = this.connection.send(p.frame);
    p.sent ||= sent;
    if (sent && p.queueWhileOffline) this.#arm(rid, p);
  }
}
