// @vitest-environment jsdom
/**
 * Tokens through React against a real relay with auth: the provider passes its token function
 * through (always the latest one given), a refused token shows in useConnectionError and
 * useConnectionStatus, writes made then roll back with `unauthorized`, and a write without the
 * `write` right rolls back with `forbidden`, a document whose subscription a refresh ends is
 * dropped, and writes over the relay's write rate are sent again rather than lost.
 */
import { type ReactNode, useState } from 'react';
import { act, cleanup, configure, render, screen, waitFor } from '@testing-library/react';
import { increment } from '../../src/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RealtimeClient, SyncError } from '../../src/index.js';
import { RealtimeProvider, type WriteFailure, useConnectionError, useConnectionStatus, useRealtime } from '../../src/react.js';
import { ALL, SECRET, tokenFor } from '../helpers/auth.js';
import { startRelay } from '../helpers/relay.js';
import { DocView, handle, uid, view } from './render-helpers.js';

configure({ asyncUtilTimeout: 5000 });
afterEach(cleanup);

function Connection({ onClient }: { onClient?: (c: RealtimeClient) => void }): ReactNode {
  const client = useRealtime();
  onClient?.(client);
  const status = useConnectionStatus();
  const error = useConnectionError();
  return <span data-testid="connection">{error ? `${status}: ${error.code}: ${error.message}` : status}</span>;
}

const connection = () => screen.getByTestId('connection').textContent;

describe('tokens in React', () => {
  it('a refused token shows in useConnectionError, and writes made then roll back with unauthorized', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET } });
    const id = uid();
    await relay.store.create('notes', id, { text: 'kept' });
    let good = true;
    const calls: string[] = [];
    const token = () => {
      calls.push(good ? 'good' : 'bad');
      return tokenFor('ann', ALL, good ? {} : { secret: 'a-secret-the-relay-does-not-know-at-all!' });
    };
    let client: RealtimeClient | undefined;
    const h = handle<{ text: string }>();
    render(
      <RealtimeProvider url={relay.url} token={token} WebSocket={WebSocket}>
        <Connection onClient={(c) => (client = c)} />
        <DocView<{ text: string }> service="notes" id={id} handle={h} />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(view<{ text: string }>().status).toBe('ready'));
    expect(connection()).toBe('open');
    expect(client!.identity).toMatchObject({ user: 'ann' });

    good = false;
    act(() => client!.reconnect()); // the token function is asked again, and its answer refused
    await waitFor(() => expect(connection()).toMatch(/^closed: unauthorized: .*signature/));
    expect(calls).toEqual(['good', 'bad']);

    let refusal: SyncError | undefined;
    await act(async () => {
      refusal = await h.current!.update((d) => {
        d.text = 'lost?';
      }).then(
        () => undefined,
        (e: SyncError) => e,
      );
    });
    expect(refusal).toMatchObject({ code: 'unauthorized' });
    expect(view<{ text: string }>()).toMatchObject({ data: { text: 'kept' }, pending: 0 });
    expect((await relay.store.get('notes', id)).data).toEqual({ text: 'kept' });

    // No reconnect loop: the token function is not asked again until the app says so.
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toEqual(['good', 'bad']);
    good = true;
    act(() => client!.connect());
    await waitFor(() => expect(connection()).toBe('open'));
    expect(calls).toEqual(['good', 'bad', 'good']);
  });

  it('the provider asks the latest token function it was given', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET } });
    let client: RealtimeClient | undefined;
    let setUser: (u: string) => void = () => {};
    function App(): ReactNode {
      const [user, set] = useState('ann');
      setUser = set;
      return (
        <RealtimeProvider url={relay.url} token={() => tokenFor(user, ALL)} WebSocket={WebSocket}>
          <Connection onClient={(c) => (client = c)} />
        </RealtimeProvider>
      );
    }
    render(<App />);
    await waitFor(() => expect(connection()).toBe('open'));
    const first = client!;
    expect(first.identity).toMatchObject({ user: 'ann' });
    act(() => setUser('bob'));
    act(() => first.reconnect());
    await waitFor(() => expect(client!.identity).toMatchObject({ user: 'bob' }));
    expect(client).toBe(first); // the same client: the option was not read again, the function was
  });

  it('a write without the write right shows optimistically, then rolls back with forbidden', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET } });
    const id = uid();
    await relay.store.create('notes', id, { text: 'original' });
    const h = handle<{ text: string }>();
    render(
      <RealtimeProvider url={relay.url} token={() => tokenFor('reader', { notes: ['read'] })} WebSocket={WebSocket}>
        <DocView<{ text: string }> service="notes" id={id} handle={h} />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(view<{ text: string }>().status).toBe('ready'));
    let write: Promise<unknown> | undefined;
    act(() => {
      write = h.current!.update((d) => {
        d.text = 'edited';
      });
    });
    // Shown at once, before the relay answers.
    expect(view<{ text: string }>()).toMatchObject({ data: { text: 'edited' }, pending: 1 });
    let refusal: SyncError | undefined;
    await act(async () => {
      refusal = await write!.then(
        () => undefined,
        (e: SyncError) => e,
      );
    });
    expect(refusal).toMatchObject({ code: 'forbidden', message: `forbidden: this token has no "write" right on notes/${id}` });
    expect(view<{ text: string }>()).toMatchObject({ status: 'ready', data: { text: 'original' }, revision: 1, pending: 0 });
    expect((await relay.store.get('notes', id)).revision).toBe(1);
  });

  it('drops a document whose subscription a refreshed token ends, with forbidden', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET } });
    const id = uid();
    await relay.store.create('notes', id, { text: 'secret' });
    let calls = 0;
    const token = () => {
      calls += 1;
      return tokenFor('ann', calls === 1 ? { notes: ['read'] } : { other: ['read'] }, { ttlSeconds: 2 });
    };
    render(
      <RealtimeProvider url={relay.url} token={token} WebSocket={WebSocket}>
        <DocView<{ text: string }> service="notes" id={id} />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(view<{ text: string }>()).toMatchObject({ status: 'ready', data: { text: 'secret' } }));
    await waitFor(() => expect(view<{ text: string }>()).toMatchObject({ status: 'error', data: null, error: 'forbidden' }), { timeout: 4000 });
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});

describe('ignored write promises', () => {
  it('a rolled-back write whose promise nobody holds raises no unhandled rejection, and reaches onError', async () => {
    const relay = await startRelay('memory', { auth: { secret: SECRET } });
    const id = uid();
    await relay.store.create('notes', id, { text: 'original' });
    const h = handle<{ text: string }>();
    const unhandled: unknown[] = [];
    const failures: WriteFailure[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      render(
        <RealtimeProvider url={relay.url} token={() => tokenFor('reader', { notes: ['read'] })} WebSocket={WebSocket}>
          <DocView<{ text: string }> service="notes" id={id} handle={h} options={{ onError: (f) => failures.push(f) }} />
        </RealtimeProvider>,
      );
      await waitFor(() => expect(view<{ text: string }>().status).toBe('ready'));
      act(() => {
        void h.current!.update((d) => {
          d.text = 'ignored';
        }); // as onClick={() => doc.update(...)} does
      });
      await waitFor(() => expect(view<{ text: string }>()).toMatchObject({ data: { text: 'original' }, pending: 0 }));
      await new Promise((r) => setTimeout(r, 100)); // unhandled rejections are reported after a turn
      expect(unhandled).toEqual([]);
      expect(failures).toEqual([{ write: 'update', error: expect.objectContaining({ code: 'forbidden' }) }]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('write rate in React', () => {
  it('optimistic writes over the write rate are sent again after retryAfterMs, none lost', async () => {
    const relay = await startRelay('memory', { limits: { writesPerSecond: 10, writeBurst: 2 } });
    const id = uid();
    await relay.store.create('counters', id, { n: 0 });
    const h = handle<{ n: number }>();
    render(
      <RealtimeProvider url={relay.url} WebSocket={WebSocket}>
        <DocView<{ n: number }> service="counters" id={id} handle={h} />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(view<{ n: number }>().status).toBe('ready'));
    const writes = 8;
    let outcomes: PromiseSettledResult<unknown>[] = [];
    await act(async () => {
      const all = Array.from({ length: writes }, () => h.current!.mutate({ n: increment(1) }));
      outcomes = await Promise.allSettled(all);
    });
    expect(outcomes.map((o) => o.status)).toEqual(Array(writes).fill('fulfilled'));
    expect(relay.refusals.write_rate).toBeGreaterThan(0); // the limit was hit, and nothing was lost to it
    expect(await relay.store.get('counters', id)).toMatchObject({ revision: 1 + writes, data: { n: writes } });
    await waitFor(() => expect(view<{ n: number }>()).toMatchObject({ data: { n: writes }, revision: 1 + writes, pending: 0 }));
  });
});
