// @vitest-environment jsdom
/**
 * useSyncEvents against a real relay (memory and Redis stores): topics and patterns, return
 * modes, filters, handler changes, resubscribing on prop changes and reconnects, unmounting.
 */
import type { ReactNode } from 'react';
import { act, cleanup, configure, render, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RealtimeClient, ReturnMode, SyncEvent } from '../../src/index.js';
import { RealtimeProvider, type UseSyncEventsOptions, useSyncEvents } from '../../src/react.js';
import type { Relay } from '../../server/index.js';
import { STORES, connect, opened, startRelay } from '../helpers/relay.js';
import { DocView, pause, recordEvents, roundTrip, uid, view } from './render-helpers.js';

configure({ asyncUtilTimeout: 5000 });
afterEach(cleanup);

function Listener(props: { topic: string; onEvent: (e: SyncEvent) => void; options?: UseSyncEventsOptions }): ReactNode {
  useSyncEvents(props.topic, props.onEvent, props.options);
  return null;
}

let services = 0;
/** A service name no other test uses, so topics do not cross. */
const freshService = () => `ev${Date.now().toString(36)}${++services}`;

describe.each(STORES)('useSyncEvents on the %s store', (store) => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay(store);
  });

  async function clients(): Promise<{ a: RealtimeClient; b: RealtimeClient; service: string }> {
    const a = await opened(connect(relay));
    const b = await opened(connect(relay));
    return { a, b, service: freshService() };
  }

  /** Renders `ui` under a provider of `a`, then waits until the relay holds its subscriptions. */
  async function mount(a: RealtimeClient, ui: ReactNode) {
    const result = render(<RealtimeProvider client={a}>{ui}</RealtimeProvider>);
    await roundTrip(a);
    return result;
  }

  it.each<ReturnMode>(['full', 'diff', 'both'])("returnMode '%s' delivers the payload it asks for", async (returnMode) => {
    const { a, b, service } = await clients();
    const got: SyncEvent[] = [];
    await mount(a, <Listener topic={`sync.${service}.*`} onEvent={(e) => got.push(e)} options={{ returnMode }} />);
    const id = uid();
    await b.sync.create(service, { n: 1, keep: true }, id);
    await b.sync.merge(service, id, { n: 2, keep: null });
    await b.sync.delete(service, id);
    await waitFor(() => expect(got).toHaveLength(3));
    expect(got.map((e) => e.topic)).toEqual([`sync.${service}.created`, `sync.${service}.updated`, `sync.${service}.deleted`]);
    expect(got.map((e) => [e.metadata.operation, e.metadata.revision, e.metadata.id])).toEqual([
      ['create', 1, id],
      ['merge', 2, id],
      ['delete', 3, id],
    ]);
    const [created, updated] = got as [SyncEvent, SyncEvent, SyncEvent];
    if (returnMode === 'full' || returnMode === 'both') {
      expect(created.payload.data).toEqual({ n: 1, keep: true });
      expect(updated.payload.data).toEqual({ n: 2 });
    } else {
      expect(created.payload.data).toBeUndefined();
      expect(updated.payload.data).toBeUndefined();
    }
    if (returnMode === 'diff' || returnMode === 'both') {
      expect(updated.payload.diff).toEqual({ added: {}, removed: { keep: true }, changed: { n: { from: 1, to: 2 } } });
    } else {
      expect(updated.payload.diff).toBeUndefined();
    }
  });

  it('an exact topic gets only its events; a pattern gets every operation of its service only', async () => {
    const { a, b, service } = await clients();
    const other = freshService();
    const exact: SyncEvent[] = [];
    const pattern: SyncEvent[] = [];
    await mount(
      a,
      <>
        <Listener topic={`sync.${service}.updated`} onEvent={(e) => exact.push(e)} />
        <Listener topic={`sync.${service}.*`} onEvent={(e) => pattern.push(e)} />
      </>,
    );
    const id = uid();
    await b.sync.create(other, { n: 0 }, id);
    await b.sync.merge(other, id, { n: 1 });
    await b.sync.create(service, { n: 0 }, id);
    await b.sync.merge(service, id, { n: 1 });
    await b.sync.mutate(service, id, { n: 2 });
    await b.sync.delete(service, id);
    await waitFor(() => expect(pattern).toHaveLength(4));
    await pause(30);
    expect(pattern.map((e) => e.metadata.operation)).toEqual(['create', 'merge', 'mutate', 'delete']);
    expect(exact.map((e) => e.metadata.operation)).toEqual(['merge', 'mutate']);
    expect([...exact, ...pattern].every((e) => e.metadata.service === service)).toBe(true);
  });

  it('a new handler is used without resubscribing', async () => {
    const { a, b, service } = await clients();
    const subscribe = vi.spyOn(a, 'subscribe');
    const unsubscribe = vi.spyOn(a, 'unsubscribe');
    const first: SyncEvent[] = [];
    const second: SyncEvent[] = [];
    const { rerender } = await mount(a, <Listener topic={`sync.${service}.*`} onEvent={(e) => first.push(e)} />);
    const id = uid();
    await b.sync.create(service, { n: 0 }, id);
    await waitFor(() => expect(first).toHaveLength(1));
    rerender(
      <RealtimeProvider client={a}>
        <Listener topic={`sync.${service}.*`} onEvent={(e) => second.push(e)} />
      </RealtimeProvider>,
    );
    await b.sync.merge(service, id, { n: 1 });
    await waitFor(() => expect(second).toHaveLength(1));
    expect(second[0]!.metadata.revision).toBe(2);
    expect(first).toHaveLength(1);
    expect(subscribe).toHaveBeenCalledTimes(1);
    expect(unsubscribe).not.toHaveBeenCalled();
  });

  it('unmounting unsubscribes on the relay', async () => {
    const { a, b, service } = await clients();
    const subscribe = vi.spyOn(a, 'subscribe');
    const unsubscribe = vi.spyOn(a, 'unsubscribe');
    const events = recordEvents(a);
    const got: SyncEvent[] = [];
    const { unmount } = await mount(a, <Listener topic={`sync.${service}.*`} onEvent={(e) => got.push(e)} />);
    const id = uid();
    await b.sync.create(service, { n: 0 }, id);
    await waitFor(() => expect(got).toHaveLength(1));

    unmount();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
    expect(unsubscribe).toHaveBeenCalledWith(subscribe.mock.results[0]!.value);
    await roundTrip(a);
    const seen = events.length;
    // A canary subscription tells when the relay has routed everything written before it.
    a.subscribe({ topic: 'sync.canary.created' });
    await roundTrip(a);
    await b.sync.merge(service, id, { n: 1 });
    await b.sync.create('canary', { n: 1 });
    await waitFor(() => expect(events.slice(seen).map((e) => e.topic)).toContain('sync.canary.created'));
    expect(events.slice(seen).filter((e) => e.metadata.service === service)).toEqual([]);
    expect(got).toHaveLength(1);
  });

  it('filter on a data field and on the id (full mode)', async () => {
    const { a, b, service } = await clients();
    const paid: SyncEvent[] = [];
    const one: SyncEvent[] = [];
    const idA = uid();
    const idB = uid();
    await mount(
      a,
      <>
        <Listener topic={`sync.${service}.*`} onEvent={(e) => paid.push(e)} options={{ filter: { status: 'paid' } }} />
        <Listener topic={`sync.${service}.*`} onEvent={(e) => one.push(e)} options={{ filter: { id: idB } }} />
      </>,
    );
    await b.sync.create(service, { status: 'open' }, idA); // neither
    await b.sync.create(service, { status: 'paid' }, idB); // both
    await b.sync.merge(service, idA, { status: 'paid' }); // paid
    await b.sync.merge(service, idB, { status: 'open' }); // one
    await b.sync.merge(service, idA, { note: 'x' }); // paid
    await waitFor(() => expect(paid).toHaveLength(3));
    await waitFor(() => expect(one).toHaveLength(2));
    await pause(30);
    expect(paid.map((e) => [e.metadata.id, e.metadata.revision])).toEqual([
      [idB, 1],
      [idA, 2],
      [idA, 3],
    ]);
    expect(one.map((e) => [e.metadata.id, e.metadata.revision])).toEqual([
      [idB, 1],
      [idB, 2],
    ]);
  });

  it('filter on a data field in diff mode, alone on its client', async () => {
    const { a, b, service } = await clients();
    const paid: SyncEvent[] = [];
    await mount(a, <Listener topic={`sync.${service}.*`} onEvent={(e) => paid.push(e)} options={{ returnMode: 'diff', filter: { status: 'paid' } }} />);
    const id = uid();
    await b.sync.create(service, { status: 'open' }, id);
    await b.sync.merge(service, id, { n: 1 });
    await b.sync.merge(service, id, { status: 'paid' });
    await waitFor(() => expect(paid).toHaveLength(1));
    await b.sync.merge(service, id, { status: 'void' });
    await b.sync.merge(service, id, { status: 'paid' });
    await waitFor(() => expect(paid).toHaveLength(2));
    expect(paid.map((e) => e.metadata.revision)).toEqual([3, 5]);
  });

  it('filter on a data field in diff mode holds when another subscription of the same client gets the event', async () => {
    const { a, b, service } = await clients();
    const paid: SyncEvent[] = [];
    const all: SyncEvent[] = [];
    await mount(
      a,
      <>
        <Listener topic={`sync.${service}.*`} onEvent={(e) => paid.push(e)} options={{ returnMode: 'diff', filter: { status: 'paid' } }} />
        <Listener topic={`sync.${service}.*`} onEvent={(e) => all.push(e)} options={{ returnMode: 'diff' }} />
      </>,
    );
    const id = uid();
    await b.sync.create(service, { status: 'open' }, id); // r1: not paid
    await b.sync.merge(service, id, { status: 'paid' }); // r2: paid
    await b.sync.merge(service, id, { status: 'void' }); // r3: not paid
    await waitFor(() => expect(all).toHaveLength(3));
    await pause(30);
    expect(paid.map((e) => e.metadata.revision)).toEqual([2]);
  });

  it('filter on a data field (default full mode) holds while a document hook of the same service is mounted', async () => {
    const { a, b, service } = await clients();
    const id = uid();
    await b.sync.create(service, { status: 'open' }, id);
    const paid: SyncEvent[] = [];
    await mount(
      a,
      <>
        <DocView service={service} id={id} />
        <Listener topic={`sync.${service}.*`} onEvent={(e) => paid.push(e)} options={{ filter: { status: 'paid' } }} />
      </>,
    );
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready' }));
    await b.sync.merge(service, id, { n: 1 }); // r2: still open
    await b.sync.merge(service, id, { status: 'paid' }); // r3: paid
    await b.sync.merge(service, id, { status: 'void' }); // r4: not paid
    await waitFor(() => expect(paid.length).toBeGreaterThanOrEqual(1));
    await waitFor(() => expect(view()).toMatchObject({ revision: 4 }));
    await pause(30);
    expect(paid.map((e) => e.metadata.revision)).toEqual([3]);
    expect(paid[0]!.payload.data).toEqual({ status: 'paid', n: 1 });
  });

  it('each event reaches the handler once, even when a document hook subscribes to the same service', async () => {
    const { a, b, service } = await clients();
    const id = uid();
    await b.sync.create(service, { n: 0 }, id);
    const got: SyncEvent[] = [];
    await mount(
      a,
      <>
        <DocView service={service} id={id} />
        <Listener topic={`sync.${service}.*`} onEvent={(e) => got.push(e)} />
      </>,
    );
    await b.sync.merge(service, id, { n: 1 });
    await b.sync.merge(service, id, { n: 2 });
    await waitFor(() => expect(got.filter((e) => e.metadata.revision > 1)).toHaveLength(2));
    await pause(30);
    // On Redis the create event reaches the relay through pub/sub and may arrive after the
    // listener subscribed, so revision 1 may be seen too: what matters is once each, in order.
    const revisions = got.map((e) => e.metadata.revision);
    expect(revisions.filter((r) => r > 1)).toEqual([2, 3]);
    expect(new Set(revisions).size).toBe(revisions.length);
  });

  it('changing the topic or the filter resubscribes', async () => {
    const { a, b, service } = await clients();
    const other = freshService();
    const subscribe = vi.spyOn(a, 'subscribe');
    const unsubscribe = vi.spyOn(a, 'unsubscribe');
    const got: SyncEvent[] = [];
    const onEvent = (e: SyncEvent) => got.push(e);
    const ui = (topic: string, filter?: Record<string, string>) => (
      <RealtimeProvider client={a}>
        <Listener topic={topic} onEvent={onEvent} options={filter ? { filter } : {}} />
      </RealtimeProvider>
    );
    const { rerender } = render(ui(`sync.${service}.*`));
    await roundTrip(a);
    rerender(ui(`sync.${other}.*`));
    await roundTrip(a);
    expect(subscribe).toHaveBeenCalledTimes(2);
    expect(unsubscribe).toHaveBeenCalledWith(subscribe.mock.results[0]!.value);
    const id = uid();
    await b.sync.create(service, { k: 'x' }, id);
    await b.sync.create(other, { k: 'x' }, id);
    await waitFor(() => expect(got).toHaveLength(1));
    expect(got[0]!.metadata.service).toBe(other);

    rerender(ui(`sync.${other}.*`, { k: 'y' }));
    await roundTrip(a);
    expect(subscribe).toHaveBeenCalledTimes(3);
    // The same filter in a new object is not a change.
    rerender(ui(`sync.${other}.*`, { k: 'y' }));
    expect(subscribe).toHaveBeenCalledTimes(3);
    await b.sync.merge(other, id, { n: 1 }); // k is still 'x'
    await b.sync.merge(other, id, { k: 'y' });
    await waitFor(() => expect(got).toHaveLength(2));
    expect(got[1]!.metadata.revision).toBe(3);
  });

  it('keeps receiving after the client reconnects', async () => {
    const { a, b, service } = await clients();
    const got: SyncEvent[] = [];
    await mount(a, <Listener topic={`sync.${service}.*`} onEvent={(e) => got.push(e)} />);
    act(() => a.disconnect());
    act(() => a.connect());
    await opened(a);
    await roundTrip(a);
    await b.sync.create(service, { n: 1 });
    await waitFor(() => expect(got).toHaveLength(1));
  });
});
