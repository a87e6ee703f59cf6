/**
 * Helpers for the hook tests: a component that shows a document's state as JSON in the DOM and
 * hands its write methods to the test, an error boundary, unique ids, and tools that observe or
 * hold back what a real client receives from a real relay.
 */
import { screen } from '@testing-library/react';
import { Component, type ReactNode } from 'react';
import type { RealtimeClient, SubscribeOptions, SyncEvent } from '../../src/index.js';
import { type SyncDocumentState, type UseSyncDocumentOptions, useSyncDocument } from '../../src/react.js';

let counter = 0;
/** A document id no other test of the file uses. */
export function uid(prefix = 'd'): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${counter}`;
}

/** What {@link DocView} writes into the DOM. */
export interface ViewState<S> {
  status: string;
  data: S | null;
  revision: number | null;
  pending: number;
  error: string | null;
}

/** A mutable box the test reads the hook's latest return value from. */
export interface Handle<T, S = T> {
  current: SyncDocumentState<T, S> | undefined;
}

/** A handle to pass to {@link DocView}. */
export function handle<T, S = T>(): Handle<T, S> {
  return { current: undefined };
}

/** Renders a document's state as JSON (`data-testid={testId}`); counts renders and statuses. */
export function DocView<T extends object, S = T>(props: {
  service: string;
  id: string;
  options?: UseSyncDocumentOptions<T, S>;
  testId?: string;
  handle?: Handle<T, S>;
  renders?: { count: number; statuses: string[] };
}): ReactNode {
  const doc = useSyncDocument<T, S>(props.service, props.id, props.options);
  if (props.handle) props.handle.current = doc;
  if (props.renders) {
    props.renders.count += 1;
    props.renders.statuses.push(doc.status);
  }
  const state: ViewState<S> = {
    status: doc.status,
    data: doc.data ?? null,
    revision: doc.revision ?? null,
    pending: doc.pending,
    error: doc.error ? doc.error.code : null,
  };
  return <pre data-testid={props.testId ?? 'doc'}>{JSON.stringify(state)}</pre>;
}

/** What a {@link DocView} currently shows. */
export function view<S = Record<string, unknown>>(testId = 'doc'): ViewState<S> {
  return JSON.parse(screen.getByTestId(testId).textContent ?? 'null') as ViewState<S>;
}

/** Catches render errors and shows them. */
export class ErrorBoundary extends Component<{ children?: ReactNode }, { error: Error | undefined }> {
  override state: { error: Error | undefined } = { error: undefined };

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  override render(): ReactNode {
    if (this.state.error) {
      const code = (this.state.error as { code?: string }).code ?? 'none';
      return <p data-testid="boundary">{`caught ${this.state.error.name} ${code}: ${this.state.error.message}`}</p>;
    }
    return this.props.children;
  }
}

/** Resolves once the relay has answered a ping from `client`: every frame sent before it was handled. */
export async function roundTrip(client: RealtimeClient): Promise<void> {
  await client.request({ type: 'ping' });
}

/** Every event `client` receives, in order. */
export function recordEvents(client: RealtimeClient): SyncEvent[] {
  const events: SyncEvent[] = [];
  client.on('event', (e) => events.push(e));
  return events;
}

/**
 * Lets the test hold back the events `client` delivers to listeners registered from now on
 * (call before the provider builds its document cache). `release` delivers the held events
 * that pass `keep` (all by default), in the order given by `order` (arrival by default).
 */
export function eventGate(client: RealtimeClient): {
  hold(): void;
  held(): SyncEvent[];
  release(keep?: (e: SyncEvent) => boolean, order?: (a: SyncEvent, b: SyncEvent) => number): void;
} {
  let held: Array<{ event: SyncEvent; deliver: () => void }> | undefined;
  type Listen = (name: string, handler: (payload: unknown) => void) => () => void;
  const on = client.on.bind(client) as unknown as Listen;
  const gated: Listen = (name, handler) => {
    if (name !== 'event') return on(name, handler);
    return on('event', (e) => {
      if (held) held.push({ event: e as SyncEvent, deliver: () => handler(e) });
      else handler(e);
    });
  };
  client.on = gated as unknown as RealtimeClient['on'];
  // Subscriptions with their own handler (the document cache's) go through the gate too.
  const subscribe = client.subscribe.bind(client);
  client.subscribe = ((options: SubscribeOptions, handler?: (e: SyncEvent) => void) =>
    subscribe(
      options,
      handler &&
        ((e: SyncEvent) => {
          if (held) held.push({ event: e, deliver: () => handler(e) });
          else handler(e);
        }),
    )) as RealtimeClient['subscribe'];
  return {
    hold() {
      held ??= [];
    },
    held: () => (held ?? []).map((h) => h.event),
    release(keep = () => true, order) {
      const queued = (held ?? []).filter((h) => keep(h.event));
      held = undefined;
      if (order) queued.sort((a, b) => order(a.event, b.event));
      for (const h of queued) h.deliver();
    },
  };
}

/** Waits `ms` (only to give a wrong outcome the chance to show; never a timing assertion). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
