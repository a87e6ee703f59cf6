/**
 * Who receives which event. Subscriptions are indexed by exact topic, with wildcard patterns in
 * a short list beside; an event is serialized at most once per return mode and the same bytes
 * go to every receiving socket, so fan-out does no per-subscriber JSON work.
 */
import {
  type EventFilter,
  type EventMessage,
  type ReturnMode,
  type SyncEvent,
  filterMatches,
  topicFor,
  topicMatches,
} from '../src/protocol/index.js';
import type { StoreEvent } from './store/types.js';

/** One subscription of one connection. */
export interface Subscription<C> {
  readonly owner: C;
  readonly sub: string;
  readonly topic: string;
  readonly filter: EventFilter | undefined;
  readonly mode: ReturnMode;
}

const FULL = 1;
const DIFF = 2;
const MODE_BITS: Record<ReturnMode, number> = { full: FULL, diff: DIFF, both: FULL | DIFF };
const MODE_BY_BITS: Record<number, ReturnMode> = { [FULL]: 'full', [DIFF]: 'diff', [FULL | DIFF]: 'both' };

/** Subscriptions of many connections, and the routing of events to them. */
export class SubscriptionIndex<C> {
  private readonly exact = new Map<string, Set<Subscription<C>>>();
  private readonly patterns = new Set<Subscription<C>>();

  /** Number of subscriptions held. */
  get size(): number {
    let n = this.patterns.size;
    for (const set of this.exact.values()) n += set.size;
    return n;
  }

  add(s: Subscription<C>): void {
    if (s.topic.includes('*')) {
      this.patterns.add(s);
      return;
    }
    let set = this.exact.get(s.topic);
    if (!set) this.exact.set(s.topic, (set = new Set()));
    set.add(s);
  }

  delete(s: Subscription<C>): void {
    if (this.patterns.delete(s)) return;
    const set = this.exact.get(s.topic);
    if (set?.delete(s) && set.size === 0) this.exact.delete(s.topic);
  }

  /**
   * The connections an event goes to, each with the return mode it needs: a connection with
   * several matching subscriptions gets one frame carrying what all of them asked for.
   */
  route(topic: string, meta: { service: string; id: string }, data: Record<string, unknown>): Map<C, ReturnMode> {
    const bits = new Map<C, number>();
    const consider = (s: Subscription<C>) => {
      if (!filterMatches(s.filter, meta, data)) return;
      bits.set(s.owner, (bits.get(s.owner) ?? 0) | MODE_BITS[s.mode]);
    };
    const set = this.exact.get(topic);
    if (set) for (const s of set) consider(s);
    for (const s of this.patterns) if (topicMatches(s.topic, topic)) consider(s);
    const out = new Map<C, ReturnMode>();
    for (const [owner, b] of bits) out.set(owner, MODE_BY_BITS[b]!);
    return out;
  }
}

/** The wire frames of one event, built on first use per return mode. */
export class EventFrames {
  private readonly cache = new Map<ReturnMode, Buffer>();
  readonly topic: string;

  constructor(private readonly e: StoreEvent) {
    this.topic = topicFor(e.service, e.operation);
  }

  frame(mode: ReturnMode): Buffer {
    let buf = this.cache.get(mode);
    if (!buf) {
      buf = Buffer.from(JSON.stringify({ type: 'event', event: this.event(mode) } satisfies EventMessage));
      this.cache.set(mode, buf);
    }
    return buf;
  }

  private event(mode: ReturnMode): SyncEvent {
    const { e } = this;
    const metadata: SyncEvent['metadata'] = {
      operation: e.operation,
      service: e.service,
      id: e.id,
      revision: e.revision,
      timestamp: e.timestamp,
    };
    if (e.mutationId) metadata.mutationId = e.mutationId;
    const payload: SyncEvent['payload'] = {};
    if (mode !== 'diff') payload.data = e.data;
    if (mode !== 'full') payload.diff = e.diff();
    return { topic: this.topic, source: 'sync', metadata, payload };
  }
}
