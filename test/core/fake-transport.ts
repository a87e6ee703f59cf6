/**
 * A connection double for unit tests of the document cache's state machine: requests run
 * against a real in-process store (the memory driver, with the relay's own request code), but
 * the test decides when each request is processed, when its answer arrives, and which events
 * arrive, twice, late or never. A disconnect loses undelivered answers and events and, like the
 * real client, resends unanswered requests after reconnecting. The "relay" can restart empty
 * (a fresh memory store: every document lost, every connection dropped and back), and a
 * connection can go away for good (its page was reloaded).
 */
import type { ConnectionStatus, RealtimeClient, SubscribeOptions, SyncEvent } from '../../src/index.js';
import {
  type ClientMessage,
  type JsonObject,
  type ResultMessage,
  type SyncEventMetadata,
  SyncError,
  filterMatches,
  topicMatches,
} from '../../src/protocol/index.js';
import type { RequestOptions, WithoutRid } from '../../src/core/connection.js';
import type { DocumentTransport } from '../../src/core/document-transport.js';
import { type DocumentRequest, isDocumentRequest, runRequest } from '../../server/requests.js';
import { ANYONE } from '../../server/auth/principal.js';
import { EventFrames } from '../../server/topics.js';
import { type Store, createMemoryStore } from '../../server/index.js';

interface Call {
  message: WithoutRid<ClientMessage>;
  resolve: (r: ResultMessage['result']) => void;
  reject: (e: SyncError) => void;
}

/** One committed write, as the store published it. */
export interface Committed {
  metadata: SyncEventMetadata;
  /** The document's data after the write. */
  data: JsonObject;
}

/** One shared store and the fake connections to it. */
export class FakeServer {
  #store: Store;
  private readonly transports: FakeTransport[] = [];
  /**
   * Every write committed, by every store this server had (restarts included), in order; kept
   * only when asked for (`{ history: true }`): each holds a copy of the document.
   */
  readonly committed: Committed[] = [];
  readonly #history: boolean;

  constructor(options: { history?: boolean } = {}) {
    this.#history = options.history ?? false;
    this.#store = this.#fresh();
  }

  /** The store requests run against now (a new one after each {@link restart}). */
  get store(): Store {
    return this.#store;
  }

  /** A new connection, open. */
  connect(): FakeTransport {
    const t = new FakeTransport(() => this.#store);
    this.transports.push(t);
    return t;
  }

  /**
   * The relay restarts empty (a store that kept nothing, as the memory driver does across a
   * restart): every document and remembered mutation id is lost, and every open connection
   * drops (answers and events not delivered are lost) and comes back, resending what was not
   * answered. Connections that were down stay down.
   */
  restart(): void {
    this.#store = this.#fresh();
    const open = this.transports.filter((t) => t.status === 'open');
    for (const t of open) t.disconnect();
    for (const t of open) t.reconnect();
  }

  /** A connection goes away for good (its page is gone): nothing reaches it, nothing it sent runs. */
  leave(t: FakeTransport): void {
    const i = this.transports.indexOf(t);
    if (i >= 0) this.transports.splice(i, 1);
    t.close();
  }

  /** A memory store whose events reach the connections (only while it is the server's store). */
  #fresh(): Store {
    const store = createMemoryStore();
    store.onEvent((e) => {
      if (store !== this.#store) return;
      if (this.#history) this.committed.push({ metadata: { ...e.metadata }, data: structuredClone(e.data()) });
      const frames = new EventFrames(e);
      const event = (JSON.parse(frames.frame('diff').toString()) as { event: SyncEvent }).event;
      for (const t of this.transports) t.offer(event);
    });
    return store;
  }
}

/** The fake connection. */
export class FakeTransport implements DocumentTransport {
  status: ConnectionStatus = 'open';
  /** Requests sent, not yet run by the "relay". */
  readonly outbox: Call[] = [];
  /** Requests run, answers not yet delivered. */
  readonly answers: Array<{ call: Call; deliver: () => void }> = [];
  /** Events waiting to be delivered. */
  readonly inbox: SyncEvent[] = [];
  readonly subscriptions = new Map<string, SubscribeOptions & { handler?: (e: SyncEvent) => void }>();
  private readonly eventHandlers = new Set<(e: SyncEvent) => void>();
  private readonly statusHandlers = new Set<(s: ConnectionStatus) => void>();
  private nextSub = 1;
  readonly #store: () => Store;

  /** Over one store, or over whichever store `store()` returns when a request runs. */
  constructor(store: Store | (() => Store)) {
    this.#store = typeof store === 'function' ? store : () => store;
  }

  request(message: WithoutRid<ClientMessage>, _options?: RequestOptions): Promise<ResultMessage['result']> {
    if (this.status === 'closed') return new Promise(() => {}); // nothing of a page that is gone runs
    return new Promise((resolve, reject) => this.outbox.push({ message, resolve, reject }));
  }

  subscribe(options: SubscribeOptions, handler?: (event: SyncEvent) => void): string {
    const id = `sub_${this.nextSub++}`;
    this.subscriptions.set(id, handler ? { ...options, handler } : options);
    return id;
  }

  /** Hands an event to the global listeners and to each matching subscription's handler. */
  private dispatch(event: SyncEvent): void {
    for (const h of [...this.eventHandlers]) h(structuredClone(event));
    for (const s of [...this.subscriptions.values()]) {
      if (s.handler && topicMatches(s.topic, event.topic) && filterMatches(s.filter, event.metadata, undefined)) s.handler(structuredClone(event));
    }
  }

  unsubscribe(subId: string): void {
    this.subscriptions.delete(subId);
  }

  on: RealtimeClient['on'] = ((name: string, handler: (payload: never) => void) => {
    const set = (name === 'event' ? this.eventHandlers : this.statusHandlers) as Set<(p: never) => void>;
    set.add(handler);
    return () => set.delete(handler);
  }) as RealtimeClient['on'];

  /** The store published an event: queue it if a subscription matches and we are connected. */
  offer(event: SyncEvent): void {
    if (this.status !== 'open') return; // lost while offline
    const wanted = [...this.subscriptions.values()].some(
      (s) => topicMatches(s.topic, event.topic) && filterMatches(s.filter, event.metadata, undefined),
    );
    if (wanted) this.inbox.push(event);
  }

  /**
   * Runs the oldest unprocessed request against the store; its answer waits in `answers`. Not
   * while the connection is down: nothing is on the wire then (unanswered requests go out again
   * after {@link reconnect}), so no answer made before a reconnect arrives after it.
   */
  async process(index = 0): Promise<boolean> {
    if (this.status !== 'open') return false;
    const call = this.outbox.splice(index, 1)[0];
    if (!call) return false;
    const m = { ...call.message, rid: 1 } as ClientMessage;
    let deliver: () => void;
    try {
      const result = isDocumentRequest(m) ? await runRequest(this.#store(), ANYONE, m as DocumentRequest) : null;
      deliver = () => call.resolve(structuredClone(result));
    } catch (err) {
      const e = err instanceof SyncError ? err : new SyncError('internal', String(err));
      deliver = () => call.reject(SyncError.from(e.toJSON()));
    }
    this.answers.push({ call, deliver });
    return true;
  }

  /** Delivers the oldest (or the given) waiting answer. */
  answer(index = 0): boolean {
    const a = this.answers.splice(index, 1)[0];
    if (!a) return false;
    a.deliver();
    return true;
  }

  /** Delivers the oldest waiting event (a copy, as if parsed from the wire). */
  deliver(index = 0): boolean {
    const e = this.inbox.splice(index, 1)[0];
    if (!e) return false;
    this.dispatch(e);
    return true;
  }

  /** Delivers a copy of an event that was already delivered or is waiting (a duplicate). */
  redeliver(event: SyncEvent): void {
    this.dispatch(event);
  }

  /** The connection drops: waiting answers and events are lost; unanswered requests will be resent. */
  disconnect(): void {
    if (this.status !== 'open') return;
    this.status = 'reconnecting';
    for (const a of this.answers.splice(0)) this.outbox.push(a.call);
    this.inbox.length = 0;
    for (const h of [...this.statusHandlers]) h('reconnecting');
  }

  /** The connection is back. */
  reconnect(): void {
    if (this.status === 'open' || this.status === 'closed') return;
    this.status = 'open';
    for (const h of [...this.statusHandlers]) h('open');
  }

  /**
   * Gone for good, silently (see {@link FakeServer.leave}): what was waiting is lost, no
   * handler hears of it (the page it served is gone), and no request it still makes runs.
   */
  close(): void {
    this.status = 'closed';
    this.outbox.length = 0;
    this.answers.length = 0;
    this.inbox.length = 0;
  }

  /** Whether anything is still waiting (requests only once the connection is open again). */
  get busy(): boolean {
    return (this.status === 'open' ? this.outbox.length : 0) + this.answers.length + this.inbox.length > 0;
  }
}

/** Lets promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Processes, answers and delivers everything, repeatedly, until nothing is left. */
export async function drain(...transports: FakeTransport[]): Promise<void> {
  for (let round = 0; round < 200; round++) {
    await settle();
    let moved = false;
    for (const t of transports) {
      while (await t.process()) moved = true;
      while (t.answer()) moved = true;
      while (t.deliver()) moved = true;
    }
    await settle();
    if (!moved && transports.every((t) => !t.busy)) return;
  }
  throw new Error('drain: still busy after 200 rounds');
}
