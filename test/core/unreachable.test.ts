// @vitest-environment jsdom
/**
 * An unreachable relay (nothing listening on its port): the client says why, with the URL and
 * the cause, while it keeps trying; the `error` event fires once per distinct problem, not on
 * every retry; calls made meanwhile fail `unavailable` after `requestTimeout` naming both; all
 * of it is cleared once a relay comes up there and welcomes the client; and
 * `useConnectionError()` shows it instead of leaving the app on `loading`. (jsdom for that last
 * part; every client here still dials through `ws`, or a stand-in for a browser's WebSocket.)
 */
import { createServer } from 'node:net';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { createElement, type ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SyncError } from '../../src/index.js';
import { RealtimeProvider, useConnectionError, useConnectionStatus, useSyncDocument } from '../../src/react.js';
import { connect, eventually, opened, startRelay } from '../helpers/relay.js';

afterEach(cleanup);

/** A port nothing listens on (bound once by the OS, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `ws`, counting the dials. */
function countingWebSocket(): { WebSocket: new (url: string) => WebSocket; dials: () => number } {
  let dials = 0;
  class Counting extends WebSocket {
    constructor(url: string) {
      super(url);
      dials += 1;
    }
  }
  return { WebSocket: Counting, dials: () => dials };
}

/** Like a browser's WebSocket to a relay that is down: an `error` event that carries no cause. */
class CauselessSocket extends EventTarget {
  readyState = 0;
  binaryType = 'blob';
  constructor(readonly url: string) {
    super();
    setTimeout(() => this.dispatchEvent(new Event('error')), 5);
  }
  send(): void {}
  close(): void {
    this.readyState = 3;
  }
}

const refused = (port: number) => `cannot reach the relay at ws://127.0.0.1:${port}/: connection refused (ECONNREFUSED)`;

describe('an unreachable relay', () => {
  it('is named with its URL and the cause while the client retries, reported once, and cleared once the relay is up', async () => {
    const port = await freePort();
    const { WebSocket: Counting, dials } = countingWebSocket();
    const client = connect({ url: `http://127.0.0.1:${port}` }, { WebSocket: Counting, requestTimeout: 400 });
    const errors: SyncError[] = [];
    client.on('error', (e) => errors.push(e));

    await eventually(() => client.connectionError !== undefined, 3000, 'the connection error');
    expect(client.connectionError).toMatchObject({ code: 'unavailable', message: refused(port) });
    // Still trying, and the same problem is not reported again on every retry.
    await eventually(() => dials() >= 3, 8000, 'two more dials');
    expect(client.status).toBe('reconnecting');
    expect(errors.map((e) => e.message)).toEqual([refused(port)]);

    // A call waits requestTimeout as before, then fails unavailable with the URL and the cause.
    const started = Date.now();
    await expect(client.sync.get('notes', 'n1')).rejects.toMatchObject({
      code: 'unavailable',
      message: `cannot reach the relay at ws://127.0.0.1:${port}/ within 400 ms (get): connection refused (ECONNREFUSED)`,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);

    // The relay comes up on that port: welcomed, the error is gone, calls work.
    await startRelay('memory', { port });
    await opened(client);
    expect(client.connectionError).toBeUndefined();
    await expect(client.sync.create('notes', { title: 'up' })).resolves.toMatchObject({ revision: 1 });
    expect(errors).toHaveLength(1);
  });

  it('a socket that fails without a cause (as in browsers) still names the URL, and says what is known', async () => {
    const client = connect({ url: 'https://relay.example.test' }, { WebSocket: CauselessSocket, requestTimeout: 300 });
    await eventually(() => client.connectionError !== undefined, 3000, 'the connection error');
    expect(client.connectionError).toMatchObject({
      code: 'unavailable',
      message: 'cannot reach the relay at wss://relay.example.test/: the WebSocket failed (browsers give no cause)',
    });
    await expect(client.sync.get('notes', 'n1')).rejects.toMatchObject({
      code: 'unavailable',
      message: 'cannot reach the relay at wss://relay.example.test/ within 300 ms (get): the WebSocket failed (browsers give no cause)',
    });
  });

  it('each distinct problem is one error event: a failing token function, then the relay refusing connections', async () => {
    const port = await freePort();
    let tokenWorks = false;
    const client = connect(
      { url: `http://127.0.0.1:${port}` },
      {
        token: () => {
          if (!tokenWorks) throw new Error('no session yet');
          return 'token';
        },
      },
    );
    const errors: SyncError[] = [];
    client.on('error', (e) => errors.push(e));
    await eventually(() => client.connectionError !== undefined, 3000, 'the token failure');
    expect(client.connectionError?.message).toBe('the token function failed: no session yet');
    tokenWorks = true;
    await eventually(() => client.connectionError?.message === refused(port), 5000, 'the refused dial');
    expect(errors.map((e) => e.message)).toEqual(['the token function failed: no session yet', refused(port)]);
    expect(client.status).toBe('reconnecting');
  });

  it('useConnectionError shows it, while the document stays loading and the client keeps trying', async () => {
    const port = await freePort();
    function App(): ReactNode {
      const error = useConnectionError();
      const status = useConnectionStatus();
      const doc = useSyncDocument('notes', 'n1');
      return createElement('p', { 'data-testid': 'app' }, `${doc.status} / ${status} / ${error ? `${error.code}: ${error.message}` : 'no error'}`);
    }
    render(createElement(RealtimeProvider, { url: `http://127.0.0.1:${port}`, WebSocket }, createElement(App)));
    await waitFor(() => expect(screen.getByTestId('app').textContent).toBe(`loading / reconnecting / unavailable: ${refused(port)}`), { timeout: 3000 });
  });
});
