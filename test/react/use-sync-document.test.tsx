// @vitest-environment jsdom
/**
 * useSyncDocument against a real relay (memory and Redis stores): cross-client sync, optimistic
 * writes and rollbacks, `update` retries, `select`, StrictMode, statuses, Suspense, offline
 * writes and catching up after a relay restart.
 */
import { Profiler, StrictMode, Suspense, type ReactNode } from 'react';
import { type RenderResult, act, cleanup, configure, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RealtimeClient, type SyncDocument, SyncError, increment } from '../../src/index.js';
import { type DocumentCacheOptions, RealtimeProvider, type UseSyncDocumentOptions, useSyncDocument } from '../../src/react.js';
import { documentCache } from '../../src/core/document-cache.js';
import type { Relay } from '../../server/index.js';
import { STORES, connect, freshPrefix, opened, startRelay } from '../helpers/relay.js';
import { outcome } from '../helpers/reader.js';
import {
  DocView,
  ErrorBoundary,
  type Handle,
  type ViewState,
  eventGate,
  handle,
  pause,
  recordEvents,
  roundTrip,
  uid,
  view,
} from './render-helpers.js';

configure({ asyncUtilTimeout: 5000 });
afterEach(cleanup);

const SERVICE = 'counter';
type Counter = { count: number; a?: number; b?: number };


/** Runs `fn` (writes through a handle) inside a synchronous act() and returns what it returned. */
function inAct<R>(fn: () => R): R {
  let result!: R;
  act(() => {
    result = fn();
  });
  return result;
}

/** What {@link docTree} renders besides the document id. */
interface DocProps {
  cache?: DocumentCacheOptions;
  options?: UseSyncDocumentOptions<Counter, Counter>;
  handle?: Handle<Counter>;
  renders?: { count: number; statuses: string[] };
}

/** One {@link DocView} of `id` under a provider for `client`. */
function docTree(client: RealtimeClient, id: string, { cache, ...props }: DocProps = {}): ReactNode {
  return (
    <RealtimeProvider client={client} cache={cache}>
      <DocView<Counter> service={SERVICE} id={id} {...props} />
    </RealtimeProvider>
  );
}

/** What {@link mountDoc} waits for unless told otherwise. */
const READY: Partial<ViewState<Counter>> = { status: 'ready', revision: 1 };

/** Renders {@link docTree} with a fresh handle and waits until the view shows `until`. */
async function mountDoc(
  client: RealtimeClient,
  id: string,
  { until = READY, ...props }: Omit<DocProps, 'handle'> & { until?: Partial<ViewState<Counter>> } = {},
): Promise<RenderResult & { h: Handle<Counter> }> {
  const h = handle<Counter>();
  const result = render(docTree(client, id, { ...props, handle: h }));
  await waitFor(() => expect(view()).toMatchObject(until));
  return { ...result, h };
}

function Writer({ id, name, sink }: { id: string; name: string; sink: Array<Promise<unknown>> }): ReactNode {
  const doc = useSyncDocument<Counter>(SERVICE, id);
  return (
    <div>
      <span data-testid={`${name}-count`}>{doc.data?.count ?? '-'}</span>
      <span data-testid={`${name}-pending`}>{doc.pending}</span>
      <button onClick={() => sink.push(doc.merge({ count: 10 }))}>{`merge-${name}`}</button>
      <button onClick={() => sink.push(doc.update((d) => void (d.count += 1)))}>{`inc-${name}`}</button>
    </div>
  );
}

const text = (testId: string) => screen.getByTestId(testId).textContent;

describe.each(STORES)('useSyncDocument on the %s store', (store) => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay(store);
  });

  async function setup(data: Counter | null, on: Relay = relay): Promise<{ id: string; a: RealtimeClient; b: RealtimeClient }> {
    const id = uid();
    const a = await opened(connect(on));
    const b = await opened(connect(on));
    if (data !== null) await b.sync.create(SERVICE, data, id);
    return { id, a, b };
  }

  /** Like {@link setup}, with an {@link eventGate} on `a` installed before the provider builds the cache. */
  async function setupGated(data: Counter): Promise<{ id: string; a: RealtimeClient; b: RealtimeClient; gate: ReturnType<typeof eventGate> }> {
    const id = uid();
    const a = await opened(connect(relay));
    const gate = eventGate(a);
    const b = await opened(connect(relay));
    await b.sync.create(SERVICE, data, id);
    return { id, a, b, gate };
  }

  it('a write through one provider shows up under another provider with its own client', async () => {
    const { id, a, b } = await setup({ count: 1 });
    const sink: Array<Promise<unknown>> = [];
    render(
      <>
        <RealtimeProvider client={a}>
          <Writer id={id} name="a" sink={sink} />
        </RealtimeProvider>
        <RealtimeProvider client={b}>
          <Writer id={id} name="b" sink={sink} />
        </RealtimeProvider>
      </>,
    );
    await waitFor(() => expect([text('a-count'), text('b-count')]).toEqual(['1', '1']));

    act(() => screen.getByText('merge-a').click());
    expect(text('a-count')).toBe('10');
    await waitFor(() => expect(text('b-count')).toBe('10'));

    act(() => screen.getByText('inc-b').click());
    expect(text('b-count')).toBe('11');
    await waitFor(() => expect(text('a-count')).toBe('11'));
    await Promise.all(sink);
    const server = await b.sync.get(SERVICE, id);
    expect(server).toMatchObject({ revision: 3, data: { count: 11 } });
    await waitFor(() => expect([text('a-pending'), text('b-pending')]).toEqual(['0', '0']));
  });

  it('shows an optimistic write synchronously, before the relay answers', async () => {
    const { id, a } = await setup({ count: 1 });
    const sink: Array<Promise<unknown>> = [];
    render(
      <RealtimeProvider client={a}>
        <Writer id={id} name="a" sink={sink} />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(text('a-count')).toBe('1'));
    act(() => screen.getByText('inc-a').click());
    // Nothing has gone over the socket and back yet: act() only flushed React.
    expect(text('a-count')).toBe('2');
    expect(text('a-pending')).toBe('1');
    const result = (await sink[0]) as SyncDocument<Counter>;
    expect(result).toMatchObject({ revision: 2, data: { count: 2 } });
    await waitFor(() => expect(text('a-pending')).toBe('0'));
    expect(text('a-count')).toBe('2');
  });

  it('a replace with a stale revision rolls back and rejects with a conflict', async () => {
    const { id, a, b } = await setup({ count: 1 });
    const { h } = await mountDoc(a, id);
    await b.sync.merge(SERVICE, id, { count: 2 });
    await waitFor(() => expect(view()).toMatchObject({ revision: 2, data: { count: 2 } }));

    const replaced = inAct(() => h.current!.replace({ count: 99 }, 1));
    expect(view()).toMatchObject({ data: { count: 99 }, pending: 1 });
    const settled = await outcome(replaced);
    expect(settled.ok).toBe(false);
    const error = (settled as { error: unknown }).error;
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ code: 'conflict', status: 409, revision: 2 });
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: { count: 2 }, revision: 2, pending: 0 }));
    expect(await b.sync.get(SERVICE, id)).toMatchObject({ revision: 2, data: { count: 2 } });
  });

  it('a rolled-back write leaves the other pending writes in place', async () => {
    const { id, a, b } = await setup({ count: 1 });
    const { h } = await mountDoc(a, id);
    await b.sync.merge(SERVICE, id, { count: 2 });
    await waitFor(() => expect(view()).toMatchObject({ revision: 2 }));
    const [stale, merged] = inAct(() => [h.current!.replace({ count: 99 }, 1), h.current!.merge({ b: 5 })] as const);
    expect(view()).toMatchObject({ data: { count: 99, b: 5 }, pending: 2 });
    expect(await outcome(stale)).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await merged).toMatchObject({ revision: 3, data: { count: 2, b: 5 } });
    await waitFor(() => expect(view()).toMatchObject({ data: { count: 2, b: 5 }, revision: 3, pending: 0 }));
  });

  it('update re-runs its recipe after a concurrent write and both increments land (events held back)', async () => {
    const { id, a, b, gate } = await setupGated({ count: 0 });
    const conflicts: SyncError[] = [];
    const request = a.request.bind(a);
    a.request = (message, options) => {
      const p = request(message, options);
      p.catch((e: unknown) => {
        if (e instanceof SyncError && e.code === 'conflict') conflicts.push(e);
      });
      return p;
    };
    const { h } = await mountDoc(a, id, { until: { status: 'ready', revision: 1, data: { count: 0 } } });

    gate.hold();
    await b.sync.mutate(SERVICE, id, { count: increment(1) }); // r2, not seen by A yet
    const updated = inAct(() => h.current!.update((d) => void (d.count += 1)));
    expect(view()).toMatchObject({ data: { count: 1 }, revision: 1, pending: 1 });
    const doc = await updated;
    expect(doc).toMatchObject({ revision: 3, data: { count: 2 } });
    expect(conflicts.length).toBeGreaterThanOrEqual(1);
    gate.release(); // the late event of r2 must be ignored
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: { count: 2 }, revision: 3, pending: 0 }));
    expect(await b.sync.get(SERVICE, id)).toMatchObject({ revision: 3, data: { count: 2 } });
  });

  it('update built offline on a stale revision retries after reconnecting and both increments land', async () => {
    const { id, a, b } = await setup({ count: 0 });
    const { h } = await mountDoc(a, id);
    act(() => a.disconnect());
    await b.sync.mutate(SERVICE, id, { count: increment(1) });
    const updated = inAct(() => h.current!.update((d) => void (d.count += 1)));
    expect(view()).toMatchObject({ data: { count: 1 }, pending: 1 });
    act(() => a.connect());
    expect(await updated).toMatchObject({ revision: 3, data: { count: 2 } });
    await waitFor(() => expect(view()).toMatchObject({ data: { count: 2 }, revision: 3, pending: 0 }));
    expect(await b.sync.get(SERVICE, id)).toMatchObject({ revision: 3, data: { count: 2 } });
  });

  it('with select, a component re-renders only when its selected value changes', async () => {
    const { id, a, b } = await setup({ count: 0, a: 1, b: 0 });
    const renders = { count: 0, statuses: [] as string[] };
    render(
      <RealtimeProvider client={a}>
        <DocView<Counter, number | undefined> service={SERVICE} id={id} options={{ select: (d) => d.a }} testId="sel" renders={renders} />
        <DocView<Counter> service={SERVICE} id={id} testId="full" />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(view('sel')).toMatchObject({ status: 'ready', data: 1 }));
    await waitFor(() => expect(view('full')).toMatchObject({ status: 'ready', revision: 1 }));
    const before = renders.count;
    for (let i = 1; i <= 3; i++) {
      await b.sync.merge(SERVICE, id, { b: i });
      await waitFor(() => expect(view('full')).toMatchObject({ revision: 1 + i, data: { b: i } }));
    }
    await pause(30);
    expect(renders.count).toBe(before);
    await b.sync.merge(SERVICE, id, { a: 2 });
    await waitFor(() => expect(view('sel')).toMatchObject({ data: 2 }));
    await waitFor(() => expect(view('full')).toMatchObject({ revision: 5 }));
    await pause(30);
    expect(renders.count).toBe(before + 1);
  });

  it('StrictMode: one commit per change while mounted, and no subscription is left after unmount', async () => {
    const { id, a, b } = await setup({ count: 0 });
    const subscribe = vi.spyOn(a, 'subscribe');
    const unsubscribe = vi.spyOn(a, 'unsubscribe');
    const events = recordEvents(a);
    let commits = 0;
    const { unmount } = render(
      <StrictMode>
        <RealtimeProvider client={a} cache={{ gcTime: 50 }}>
          <Profiler id="doc" onRender={() => void (commits += 1)}>
            <DocView<Counter> service={SERVICE} id={id} />
          </Profiler>
        </RealtimeProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: { count: 0 }, revision: 1 }));
    for (let i = 1; i <= 3; i++) {
      const before = commits;
      await b.sync.merge(SERVICE, id, { count: i });
      await waitFor(() => expect(view()).toMatchObject({ data: { count: i }, revision: 1 + i }));
      await pause(20);
      expect(commits - before).toBe(1);
    }
    expect(subscribe).toHaveBeenCalledTimes(1);

    unmount();
    await waitFor(() => expect(unsubscribe).toHaveBeenCalledTimes(1));
    expect(unsubscribe).toHaveBeenCalledWith(subscribe.mock.results[0]!.value);
    expect(documentCache(a).size).toBe(0);
    await roundTrip(a); // the unsubscribe has reached the relay

    // A canary subscription tells when the relay has routed everything written before it.
    const seen = events.length;
    a.subscribe({ topic: 'sync.canary.created' });
    await roundTrip(a);
    await b.sync.merge(SERVICE, id, { count: 100 });
    await b.sync.create('canary', { n: 1 });
    await waitFor(() => expect(events.slice(seen).some((e) => e.topic === 'sync.canary.created')).toBe(true));
    expect(events.slice(seen).filter((e) => e.metadata.service === SERVICE)).toEqual([]);
  });

  it('status goes loading -> ready, and the create option creates a missing document', async () => {
    const { id, a, b } = await setup(null);
    const renders = { count: 0, statuses: [] as string[] };
    render(docTree(a, id, { options: { create: { count: 7 } }, renders }));
    expect(view().status).toBe('loading');
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: { count: 7 }, revision: 1 }));
    expect([...new Set(renders.statuses)]).toEqual(['loading', 'ready']);
    expect(renders.statuses[0]).toBe('loading');
    expect(await b.sync.get(SERVICE, id)).toMatchObject({ revision: 1, data: { count: 7 } });
  });

  it('create option on an existing document keeps its data', async () => {
    const { id, a } = await setup({ count: 3 });
    await mountDoc(a, id, { options: { create: { count: 7 } }, until: { status: 'ready', data: { count: 3 }, revision: 1 } });
  });

  it("status is 'not-found' without create, and 'ready' once someone creates the document", async () => {
    const { id, a, b } = await setup(null);
    await mountDoc(a, id, { until: { status: 'not-found', data: null, error: 'not_found' } });
    await b.sync.create(SERVICE, { count: 4 }, id);
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: { count: 4 }, revision: 1 }));
  });

  it("doc.delete() shows 'deleted' at once, resolves, and the document is gone on the server", async () => {
    const { id, a, b } = await setup({ count: 1 });
    const { h } = await mountDoc(a, id);
    const deleted = inAct(() => h.current!.delete());
    expect(view()).toMatchObject({ status: 'deleted', data: null, pending: 1 });
    await expect(deleted).resolves.toBeUndefined();
    await waitFor(() => expect(view()).toMatchObject({ status: 'deleted', data: null, revision: 2, pending: 0 }));
    expect(await outcome(b.sync.get(SERVICE, id))).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it("doc.delete() stays 'deleted' when the relay's answer arrives before the deleted event", async () => {
    // Over Redis the event travels through pub/sub and often arrives after the answer; holding
    // the event back makes that order certain on both stores.
    const { id, a, gate } = await setupGated({ count: 1 });
    const renders = { count: 0, statuses: [] as string[] };
    const { h } = await mountDoc(a, id, { renders });
    gate.hold();
    const deleted = inAct(() => h.current!.delete());
    expect(view()).toMatchObject({ status: 'deleted', data: null, pending: 1 });
    const from = renders.statuses.length - 1;
    await deleted;
    await waitFor(() => expect(gate.held().map((e) => e.metadata.operation)).toContain('delete'));
    await pause(20);
    const afterAnswer = view();
    act(() => gate.release());
    await waitFor(() => expect(view()).toMatchObject({ status: 'deleted', revision: 2, pending: 0 }));
    expect(afterAnswer).toMatchObject({ status: 'deleted', data: null, pending: 0 });
    expect(renders.statuses.slice(from).filter((s) => s !== 'deleted')).toEqual([]);
  });

  it("a delete by another client turns the status to 'deleted'", async () => {
    const { id, a, b } = await setup({ count: 1 });
    await mountDoc(a, id);
    await b.sync.delete(SERVICE, id);
    await waitFor(() => expect(view()).toMatchObject({ status: 'deleted', data: null, revision: 2 }));
  });

  it('a gap in the events triggers a catch-up, never a silent skip', async () => {
    const { id, a, b, gate } = await setupGated({ count: 0 });
    await mountDoc(a, id);
    gate.hold();
    await b.sync.merge(SERVICE, id, { a: 1 });
    await b.sync.merge(SERVICE, id, { b: 1 });
    await b.sync.merge(SERVICE, id, { count: 3 });
    await waitFor(() => expect(gate.held()).toHaveLength(3));
    act(() => gate.release((e) => e.metadata.revision === 4)); // r2 and r3 are lost
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', revision: 4, data: { count: 3, a: 1, b: 1 } }));
  });

  it('events that arrive out of order are applied in revision order', async () => {
    const { id, a, b, gate } = await setupGated({ count: 0 });
    const revisions: number[] = [];
    function Revisions(): ReactNode {
      const doc = useSyncDocument<Counter>(SERVICE, id);
      if (doc.revision !== undefined) revisions.push(doc.revision);
      return <pre data-testid="doc">{JSON.stringify({ status: doc.status, data: doc.data ?? null, revision: doc.revision ?? null })}</pre>;
    }
    render(
      <RealtimeProvider client={a}>
        <Revisions />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', revision: 1 }));
    gate.hold();
    await b.sync.mutate(SERVICE, id, { count: increment(1) });
    await b.sync.mutate(SERVICE, id, { count: increment(10) });
    await b.sync.mutate(SERVICE, id, { count: increment(100) });
    await waitFor(() => expect(gate.held()).toHaveLength(3));
    act(() => gate.release(undefined, (x, y) => y.metadata.revision - x.metadata.revision)); // r4, r3, r2
    await waitFor(() => expect(view()).toMatchObject({ revision: 4, data: { count: 111 } }));
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
  });

  it('after reconnecting, catches up from a snapshot when the change log no longer covers the gap', async () => {
    const short = await startRelay(store, { changeLogSize: 1 });
    const { id, a, b } = await setup({ count: 0, a: 0 }, short);
    await mountDoc(a, id);
    act(() => a.disconnect());
    await b.sync.merge(SERVICE, id, { count: 1 });
    await b.sync.merge(SERVICE, id, { a: null });
    await b.sync.merge(SERVICE, id, { b: 2 });
    expect(view()).toMatchObject({ revision: 1 });
    act(() => a.connect());
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', revision: 4, data: { count: 1, b: 2 } }));
    expect(view().data).not.toHaveProperty('a');
  });

  it('update with retries: 0 rolls back and rejects with a conflict when its base is stale', async () => {
    const { id, a, b, gate } = await setupGated({ count: 0 });
    const { h } = await mountDoc(a, id);
    gate.hold();
    await b.sync.mutate(SERVICE, id, { count: increment(1) });
    const updated = inAct(() => h.current!.update((d) => void (d.count += 5), { retries: 0 }));
    expect(view()).toMatchObject({ data: { count: 5 }, pending: 1 });
    const settled = await outcome(updated);
    expect(settled).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect((settled as { error: unknown }).error).toBeInstanceOf(SyncError);
    act(() => gate.release());
    await waitFor(() => expect(view()).toMatchObject({ data: { count: 1 }, revision: 2, pending: 0 }));
    expect(await b.sync.get(SERVICE, id)).toMatchObject({ revision: 2, data: { count: 1 } });
  });

  it('changing the id prop follows the new document and releases the old one', async () => {
    const { id, a, b } = await setup({ count: 1 });
    const id2 = uid();
    await b.sync.create(SERVICE, { count: 2 }, id2);
    const unsubscribe = vi.spyOn(a, 'unsubscribe');
    const { rerender } = await mountDoc(a, id, { cache: { gcTime: 50 }, until: { status: 'ready', data: { count: 1 } } });
    rerender(docTree(a, id2, { cache: { gcTime: 50 } }));
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: { count: 2 } }));
    await waitFor(() => expect(unsubscribe).toHaveBeenCalledTimes(1));
    expect(documentCache(a).size).toBe(1);
    await b.sync.merge(SERVICE, id2, { count: 3 });
    await waitFor(() => expect(view()).toMatchObject({ data: { count: 3 }, revision: 2 }));
  });

  it('a write on a deleted document rejects with not_found and the status stays deleted', async () => {
    const { id, a, b } = await setup({ count: 1 });
    const { h } = await mountDoc(a, id);
    await b.sync.delete(SERVICE, id);
    await waitFor(() => expect(view()).toMatchObject({ status: 'deleted', revision: 2 }));
    const merged = inAct(() => h.current!.merge({ count: 2 }));
    const settled = await outcome(merged);
    expect(settled).toMatchObject({ ok: false, error: { code: 'not_found', status: 404 } });
    await waitFor(() => expect(view()).toMatchObject({ status: 'deleted', data: null, pending: 0 }));
  });

  it("a write on a 'not-found' document settles (rejects with not_found) instead of hanging", async () => {
    const { id, a, b } = await setup(null);
    const { h } = await mountDoc(a, id, { until: { status: 'not-found' } });
    let settled: Awaited<ReturnType<typeof outcome>> | undefined;
    act(() => {
      void outcome(h.current!.merge({ count: 2 })).then((r) => (settled = r));
    });
    await waitFor(() => expect(settled).toBeDefined(), { timeout: 2000 });
    expect(settled).toMatchObject({ ok: false, error: { code: 'not_found' } });
    await waitFor(() => expect(view()).toMatchObject({ status: 'not-found', pending: 0 }));
    expect(await outcome(b.sync.get(SERVICE, id))).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('writes still pending when the last reader unmounts reach the relay, then the document is released', async () => {
    const { id, a, b } = await setup({ count: 0 });
    const subscribe = vi.spyOn(a, 'subscribe');
    const unsubscribe = vi.spyOn(a, 'unsubscribe');
    const { h, unmount } = await mountDoc(a, id, { cache: { gcTime: 30 } });
    act(() => a.disconnect());
    const writes: Array<Promise<unknown>> = inAct(() => [h.current!.update((d) => void (d.count += 1)), h.current!.merge({ b: 1 })]);
    unmount();
    await pause(100); // well past gcTime
    expect(unsubscribe).not.toHaveBeenCalled();
    act(() => a.connect());
    await Promise.all(writes);
    expect(await b.sync.get(SERVICE, id)).toMatchObject({ revision: 3, data: { count: 1, b: 1 } });
    await waitFor(() => expect(unsubscribe).toHaveBeenCalledWith(subscribe.mock.results[0]!.value), { timeout: 2000 });
    expect(documentCache(a).size).toBe(0);
  });

  it('suspense: true shows the Suspense fallback while loading, then the document', async () => {
    const { id, a } = await setup({ count: 5 });
    render(
      <RealtimeProvider client={a}>
        <ErrorBoundary>
          <Suspense fallback={<p data-testid="fallback">loading</p>}>
            <DocView<Counter> service={SERVICE} id={id} options={{ suspense: true }} />
          </Suspense>
        </ErrorBoundary>
      </RealtimeProvider>,
    );
    expect(screen.getByTestId('fallback')).toBeTruthy();
    expect(screen.queryByTestId('doc')).toBeNull();
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: { count: 5 }, revision: 1 }), { timeout: 2000 });
    expect(screen.queryByTestId('fallback')).toBeNull();
  });

  it('suspense: true throws a load error to the error boundary (and without suspense it is data)', async () => {
    // A relay with a tiny document limit refuses the `create` option's data: a real load error.
    const small = await startRelay(store, { limits: { maxDocumentBytes: 64 } });
    const a = await opened(connect(small));
    const big = { count: 1, a: 1, b: 1, padding: 'x'.repeat(200) } as Counter;
    const id1 = uid();
    const id2 = uid();
    render(
      <RealtimeProvider client={a}>
        <DocView<Counter> service={SERVICE} id={id1} options={{ create: big }} testId="plain" />
        <ErrorBoundary>
          <Suspense fallback={<p data-testid="fallback">loading</p>}>
            <DocView<Counter> service={SERVICE} id={id2} options={{ create: big, suspense: true }} />
          </Suspense>
        </ErrorBoundary>
      </RealtimeProvider>,
    );
    await waitFor(() => expect(view('plain')).toMatchObject({ status: 'error', error: 'too_large' }));
    await waitFor(() => expect(screen.getByTestId('boundary').textContent).toMatch(/^caught SyncError too_large: /), { timeout: 2000 });
  });

  it('writes made offline are visible at once and flush exactly once after reconnecting', async () => {
    const { id, a, b } = await setup({ count: 0 });
    const { h } = await mountDoc(a, id);
    act(() => a.disconnect());
    expect(a.status).toBe('closed');
    const writes: Array<Promise<unknown>> = [];
    act(() => {
      for (let i = 0; i < 3; i++) writes.push(h.current!.update((d) => void (d.count += 1)));
    });
    expect(view()).toMatchObject({ data: { count: 3 }, pending: 3, revision: 1 });
    await pause(50);
    expect(await b.sync.get(SERVICE, id)).toMatchObject({ revision: 1, data: { count: 0 } });

    act(() => a.connect());
    await Promise.all(writes);
    await waitFor(() => expect(view()).toMatchObject({ data: { count: 3 }, revision: 4, pending: 0 }));
    await pause(50);
    expect(await b.sync.get(SERVICE, id)).toMatchObject({ revision: 4, data: { count: 3 } });
  });
});

describe('useSyncDocument across a relay restart (redis store)', () => {
  it('catches up on writes made through another relay while its own was down', async () => {
    const keyPrefix = freshPrefix();
    const relayA = await startRelay('redis', { keyPrefix });
    const relayB = await startRelay('redis', { keyPrefix });
    const x = await opened(connect(relayA));
    const y = await opened(connect(relayB));
    const id = uid();
    await y.sync.create(SERVICE, { count: 0 }, id);
    await mountDoc(x, id, { until: { status: 'ready', revision: 1, data: { count: 0 } } });

    const port = relayA.port;
    await relayA.close();
    await waitFor(() => expect(x.status).not.toBe('open'));
    await y.sync.merge(SERVICE, id, { count: 1 });
    await y.sync.merge(SERVICE, id, { count: 2, b: 1 });
    expect(view()).toMatchObject({ revision: 1, data: { count: 0 } });

    await startRelay('redis', { keyPrefix, port });
    await waitFor(() => expect(x.status).toBe('open'), { timeout: 20_000 });
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', revision: 3, data: { count: 2, b: 1 }, pending: 0 }));
    expect(await y.sync.get(SERVICE, id)).toMatchObject({ revision: 3 });
  }, 30_000);
});
