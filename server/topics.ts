/**
 * Who receives which event. Subscriptions are grouped by topic (exact topics in a map, each
 * distinct pattern matched once per event), and within a group by the document id their filter
 * names, so routing costs do not grow with the number of documents watched. An event is
 * serialized at most once per return mode, by joining JSON texts made once, and the same bytes
 * go to every receiving socket: fan-out does no per-subscriber JSON work.
 */
import {
  type EventFilter,
  type JsonObject,
  type ReturnMode,
  type SyncEventMetadata,
  topicFor,
} from '../src/protocol/index.js';
import type { StoreEvent } from './store/types.js';
import { textFrame } from './ws-frame.js';

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

/** Subscriptions of one topic or pattern: by the document id their filter names, and the rest. */
class Group<C> {
  readonly byId = new Map<string, Set<Subscription<C>>>();
  readonly rest = new Set<Subscription<C>>();
  /** Kept as it changes: counting the per-id sets on every delete made mass disconnects quadratic. */
  size = 0;

  add(s: Subscription<C>): boolean {
    const id = s.filter?.id;
    let set = this.rest;
    if (typeof id === 'string') {
      set = this.byId.get(id) ?? new Set();
      this.byId.set(id, set);
    }
    if (set.has(s)) return false;
    set.add(s);
    this.size++;
    return true;
  }

  delete(s: Subscription<C>): boolean {
    const id = s.filter?.id;
    if (typeof id !== 'string') {
      if (!this.rest.delete(s)) return false;
    } else {
      const set = this.byId.get(id);
      if (!set?.delete(s)) return false;
      if (set.size === 0) this.byId.delete(id);
    }
    this.size--;
    return true;
  }
}

/** Subscriptions of many connections, and the routing of events to them. */
export class SubscriptionIndex<C> {
  private readonly exact = new Map<string, Group<C>>();
  private readonly patterns = new Map<string, { segments: string[]; group: Group<C> }>();
  private count = 0;

  /** Number of subscriptions held. */
  get size(): number {
    return this.count;
  }

  add(s: Subscription<C>): void {
    if (this.groupOf(s.topic, true)!.add(s)) this.count++;
  }

  delete(s: Subscription<C>): void {
    const group = this.groupOf(s.topic, false);
    if (!group?.delete(s)) return;
    this.count--;
    if (group.size > 0) return;
    if (s.topic.includes('*')) this.patterns.delete(s.topic);
    else this.exact.delete(s.topic);
  }

  private groupOf(topic: string, create: boolean): Group<C> | undefined {
    if (!topic.includes('*')) {
      let group = this.exact.get(topic);
      if (!group && create) this.exact.set(topic, (group = new Group()));
      return group;
    }
    let entry = this.patterns.get(topic);
    if (!entry && create) this.patterns.set(topic, (entry = { segments: topic.split('.'), group: new Group() }));
    return entry?.group;
  }

  /**
   * The connections an event goes to, each with the return mode it needs: a connection with
   * several matching subscriptions gets one frame carrying what all of them asked for. `data`
   * is called only when a filter names a data field.
   */
  route(topic: string, meta: SyncEventMetadata, data: () => JsonObject): Map<C, ReturnMode> {
    const bits = new Map<C, number>();
    const consider = (group: Group<C>) => {
      const candidates = group.byId.get(meta.id);
      if (candidates) for (const s of candidates) take(s);
      for (const s of group.rest) take(s);
    };
    const take = (s: Subscription<C>) => {
      if (!passes(s.filter, meta, data)) return;
      bits.set(s.owner, (bits.get(s.owner) ?? 0) | MODE_BITS[s.mode]);
    };
    const exact = this.exact.get(topic);
    if (exact) consider(exact);
    if (this.patterns.size > 0) {
      const segments = topic.split('.');
      for (const p of this.patterns.values()) {
        if (p.segments.length === segments.length && p.segments.every((seg, i) => seg === '*' || seg === segments[i])) consider(p.group);
      }
    }
    const out = new Map<C, ReturnMode>();
    for (const [owner, b] of bits) out.set(owner, MODE_BY_BITS[b]!);
    return out;
  }
}

/** Whether an event passes a filter: `id`/`service` against metadata, other keys against data. */
function passes(filter: EventFilter | undefined, meta: SyncEventMetadata, data: () => JsonObject): boolean {
  if (!filter) return true;
  for (const key of Object.keys(filter)) {
    const want = filter[key];
    if (key === 'id' || key === 'service') {
      if (meta[key] !== want) return false;
      continue;
    }
    const d = data();
    const have = Object.prototype.hasOwnProperty.call(d, key) ? d[key] : undefined;
    if (have !== want) return false;
  }
  return true;
}

/** The wire frames of one event, built on first use per return mode from texts made once. */
export class EventFrames {
  private readonly cache = new Map<ReturnMode, Buffer>();
  private readonly wires = new Map<ReturnMode, Buffer>();
  readonly topic: string;
  private head: string | undefined;

  constructor(private readonly e: StoreEvent) {
    this.topic = topicFor(e.metadata.service, e.metadata.operation);
  }

  frame(mode: ReturnMode): Buffer {
    let buf = this.cache.get(mode);
    if (!buf) {
      this.head ??= `{"type":"event","event":{"topic":${JSON.stringify(this.topic)},"source":"sync","metadata":${this.e.metadataJson()},"payload":{`;
      const payload =
        mode === 'full'
          ? `"data":${this.e.dataJson()}`
          : mode === 'diff'
            ? `"diff":${this.e.diffJson()}`
            : `"data":${this.e.dataJson()},"diff":${this.e.diffJson()}`;
      buf = Buffer.from(`${this.head}${payload}}}}`);
      this.cache.set(mode, buf);
    }
    return buf;
  }

  /** {@link frame} as a whole WebSocket text frame, the same bytes for every socket. */
  wire(mode: ReturnMode): Buffer {
    let buf = this.wires.get(mode);
    if (!buf) this.wires.set(mode, (buf = textFrame(this.frame(mode))));
    return buf;
  }
}
