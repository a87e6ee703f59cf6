/**
 * The client's subscriptions and the routing of incoming events to them. The relay sends one
 * frame per event and connection, carrying what all of the connection's matching subscriptions
 * asked for; this puts each subscription's view back together: its own topic and filter, its
 * own return mode.
 */
import { type EventFilter, type ReturnMode, type SyncError, type SyncEvent, filterMatches, topicMatches } from '../protocol/index.js';

/** One subscription as the client keeps it. */
export interface ClientSubscription {
  topic: string;
  filter?: EventFilter;
  /** What it asked for (`full` when it did not say). */
  returnMode: ReturnMode;
  /** Called with each event of this subscription, shaped to its return mode. */
  handler?: ((event: SyncEvent) => void) | undefined;
  /** Called when the relay refuses or ends this subscription. */
  onError?: ((err: SyncError) => void) | undefined;
}

/** True when the filter names a data field (not only `id` / `service`). */
function filtersData(filter: EventFilter | undefined): boolean {
  return filter !== undefined && Object.keys(filter).some((k) => k !== 'id' && k !== 'service');
}

/**
 * The mode to ask the relay for. A subscription that filters on data fields also asks for the
 * data, so the client can tell which of its subscriptions an event belongs to.
 */
export function wireMode(s: ClientSubscription): ReturnMode {
  return s.returnMode === 'diff' && filtersData(s.filter) ? 'both' : s.returnMode;
}

/** The event as a subscription in `mode` sees it. */
export function shapeFor(event: SyncEvent, mode: ReturnMode): SyncEvent {
  const { data, diff } = event.payload;
  const wantData = mode !== 'diff';
  const wantDiff = mode !== 'full';
  if (wantData === (data !== undefined) && wantDiff === (diff !== undefined)) return event;
  const payload: SyncEvent['payload'] = {};
  if (wantData && data !== undefined) payload.data = data;
  if (wantDiff && diff !== undefined) payload.diff = diff;
  return { ...event, payload };
}

/** Whether subscription `s` wants `event`. */
export function wants(s: ClientSubscription, event: SyncEvent): boolean {
  if (!topicMatches(s.topic, event.topic)) return false;
  // Data filters can only be checked with data, which wireMode made sure the event carries.
  if (filtersData(s.filter) && event.payload.data === undefined) return false;
  return filterMatches(s.filter, event.metadata, event.payload.data);
}

/** The union of the return modes of the subscriptions an event matched. */
export function unionMode(subs: readonly ClientSubscription[]): ReturnMode {
  const modes = subs.map((s) => s.returnMode);
  // Unless some want both, or some full and some diff, they all want the same.
  return modes.includes('both') || (modes.includes('full') && modes.includes('diff')) ? 'both' : modes[0]!;
}
