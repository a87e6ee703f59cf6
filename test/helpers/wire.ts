/**
 * A bare protocol client for tests of the wire itself: it sends the frames it is given (nothing
 * added, nothing checked) and hands back exactly what the relay sent, so a test sees every
 * field of every answer and event as it travels. Closed after the file.
 */
import { afterAll } from 'vitest';
import WebSocket from 'ws';
import type { ErrorMessage, ResultMessage, ServerMessage, SyncEvent, WelcomeMessage } from '../../src/protocol/index.js';

/** A request as a test writes it: a type and any fields (valid or not); the rid is filled in. */
export type WireRequest = { type: string } & Record<string, unknown>;

/** What the relay answered a request with. */
export type WireAnswer = ResultMessage | ErrorMessage;

const open = new Set<WebSocket>();
afterAll(() => {
  for (const ws of open) ws.terminate();
});

/** One raw connection to a relay. */
export class Wire {
  /** Every event received, in arrival order. */
  readonly events: SyncEvent[] = [];
  private rid = 0;
  private readonly pending = new Map<number, (answer: WireAnswer) => void>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly ws: WebSocket,
    /** The relay's first frame. */
    readonly welcome: WelcomeMessage,
  ) {
    ws.on('message', (raw) => this.receive(JSON.parse(String(raw)) as ServerMessage));
  }

  /** Connects to `relay` (its http:// url as ws://) and waits for the welcome. */
  static async open(relay: { url: string }): Promise<Wire> {
    const ws = new WebSocket(relay.url.replace(/^http/, 'ws'));
    open.add(ws);
    ws.on('close', () => open.delete(ws));
    const welcome = await new Promise<WelcomeMessage>((resolve, reject) => {
      ws.once('message', (raw) => resolve(JSON.parse(String(raw)) as WelcomeMessage));
      ws.once('error', reject);
    });
    return new Wire(ws, welcome);
  }

  private receive(m: ServerMessage): void {
    if (m.type === 'event') {
      this.events.push(m.event);
      for (const w of this.waiters) w();
    } else if ((m.type === 'result' || m.type === 'error') && m.rid !== null) {
      this.pending.get(m.rid)?.(m);
      this.pending.delete(m.rid);
    }
  }

  /** Sends one request and resolves with its answer, a result or an error. */
  send(request: WireRequest): Promise<WireAnswer> {
    const rid = ++this.rid;
    const answer = new Promise<WireAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${request.type} within 5 s`)), 5000);
      this.pending.set(rid, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
    this.ws.send(JSON.stringify({ ...request, rid }));
    return answer;
  }

  /** The result of a request; throws, showing the error, when it was refused. */
  async result<T = unknown>(request: WireRequest): Promise<T> {
    const answer = await this.send(request);
    if (answer.type !== 'result') throw new Error(`${request.type} was refused: ${JSON.stringify(answer.error)}`);
    return answer.result as T;
  }

  /** The error a request is refused with; throws when it succeeds. */
  async error(request: WireRequest): Promise<ErrorMessage['error']> {
    const answer = await this.send(request);
    if (answer.type !== 'error') throw new Error(`${request.type} succeeded: ${JSON.stringify(answer.result)}`);
    return answer.error;
  }

  /** Resolves once `count` events arrived; rejects after `ms`. */
  async eventsArrived(count: number, ms = 5000): Promise<SyncEvent[]> {
    const deadline = Date.now() + ms;
    while (this.events.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.events.length} of ${count} events within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
    return this.events;
  }

  /** Closes the connection. */
  close(): void {
    this.ws.close();
  }
}
