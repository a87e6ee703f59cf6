// @vitest-environment jsdom
/**
 * useConnectionStatus, useRealtime and RealtimeProvider against a real relay. The connection's
 * life does not depend on the store, so these run on the memory store (the relay-restart test
 * included: it only needs a relay to go away and come back on the same port).
 */
import { StrictMode, type ReactNode } from 'react';
import { act, cleanup, configure, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { RealtimeClient } from '../../src/index.js';
import { RealtimeProvider, useConnectionStatus, useRealtime } from '../../src/react.js';
import { connect, opened, startRelay } from '../helpers/relay.js';
import { DocView, ErrorBoundary, pause, uid, view } from './render-helpers.js';

configure({ asyncUtilTimeout: 5000 });
afterEach(cleanup);

function Status({ log }: { log?: string[] }): ReactNode {
  const status = useConnectionStatus();
  log?.push(status);
  return <span data-testid="status">{status}</span>;
}

const status = () => screen.getByTestId('status').textContent;

describe('useConnectionStatus', () => {
  it("shows 'open' after connecting, 'closed' after disconnect(), 'reconnecting' then 'open' after connect()", async () => {
    const relay = await startRelay('memory');
    const client = connect(relay, { autoConnect: false });
    const log: string[] = [];
    render(
      <RealtimeProvider client={client}>
        <Status log={log} />
      </RealtimeProvider>,
    );
    expect(status()).toBe('closed');
    act(() => client.connect());
    expect(status()).toBe('connecting');
    await waitFor(() => expect(status()).toBe('open'));

    act(() => client.disconnect());
    expect(status()).toBe('closed');
    await pause(50);
    expect(status()).toBe('closed');

    act(() => client.connect());
    expect(status()).toBe('reconnecting');
    await waitFor(() => expect(status()).toBe('open'));
    expect(log.filter((s, i) => s !== log[i - 1])).toEqual(['closed', 'connecting', 'open', 'closed', 'reconnecting', 'open']);
  });

  it("shows 'reconnecting' while the relay is down and 'open' once it is back on the same port", async () => {
    const relay = await startRelay('memory');
    const client = await opened(connect(relay));
    render(
      <RealtimeProvider client={client}>
        <Status />
      </RealtimeProvider>,
    );
    expect(status()).toBe('open');
    const port = relay.port;
    await relay.close();
    await waitFor(() => expect(status()).toBe('reconnecting'));
    await startRelay('memory', { port });
    await waitFor(() => expect(status()).toBe('open'), { timeout: 20_000 });
  }, 30_000);
});

describe('RealtimeProvider', () => {
  it('useRealtime gives the client of the nearest provider', async () => {
    const relay = await startRelay('memory');
    const outer = connect(relay, { autoConnect: false });
    const inner = connect(relay, { autoConnect: false });
    const seen: RealtimeClient[] = [];
    function Who({ name }: { name: string }): ReactNode {
      seen.push(useRealtime());
      return <span>{name}</span>;
    }
    render(
      <RealtimeProvider client={outer}>
        <Who name="outer" />
        <RealtimeProvider client={inner}>
          <Who name="inner" />
        </RealtimeProvider>
      </RealtimeProvider>,
    );
    expect(seen).toEqual([outer, inner]);
    expect(seen[0]).toBe(outer);
    expect(seen[1]).toBe(inner);
  });

  it('hooks outside a provider fail with a clear error', () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    render(
      <ErrorBoundary>
        <Status />
      </ErrorBoundary>,
    );
    quiet.mockRestore();
    expect(screen.getByTestId('boundary').textContent).toMatch(/RealtimeProvider/);
  });

  it('with a url it owns a client: connects on mount, serves the hooks, disconnects on unmount', async () => {
    const relay = await startRelay('memory');
    const writer = await opened(connect(relay));
    const id = uid();
    await writer.sync.create('owned', { n: 1 }, id);
    expect(relay.connections).toBe(1);
    const log: string[] = [];
    const { unmount } = render(
      <RealtimeProvider url={relay.url} WebSocket={WebSocket} requestTimeout={5000}>
        <Status log={log} />
        <DocView service="owned" id={id} />
      </RealtimeProvider>,
    );
    expect(['connecting', 'open']).toContain(status());
    await waitFor(() => expect(status()).toBe('open'));
    await waitFor(() => expect(view()).toMatchObject({ status: 'ready', data: { n: 1 } }));
    expect(relay.connections).toBe(2);
    await writer.sync.merge('owned', id, { n: 2 });
    await waitFor(() => expect(view()).toMatchObject({ data: { n: 2 }, revision: 2 }));
    expect(log.filter((s, i) => s !== log[i - 1]).slice(-2)).toEqual(['connecting', 'open']);

    unmount();
    await waitFor(() => expect(relay.connections).toBe(1));
  });

  it('with a url under StrictMode it ends up with exactly one connection', async () => {
    const relay = await startRelay('memory');
    const { unmount } = render(
      <StrictMode>
        <RealtimeProvider url={relay.url} WebSocket={WebSocket}>
          <Status />
        </RealtimeProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(status()).toBe('open'));
    await pause(100);
    expect(status()).toBe('open');
    expect(relay.connections).toBe(1);
    unmount();
    await waitFor(() => expect(relay.connections).toBe(0));
  });
});
