/**
 * Server rendering: `renderToString` of a tree with a url-configured RealtimeProvider and the
 * hooks, in a child Node process without any WebSocket class (as on Node 20), renders
 * `loading`, never throws, starts no timer or socket, and lets the process exit at once.
 * The render itself is test/react/fixtures/ssr-render.tsx, run with tsx.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RealtimeClient } from '../../src/index.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/ssr-render.tsx', import.meta.url));

/** What the fixture prints. */
interface Rendered {
  html: string;
  /** process.getActiveResourcesInfo() right after the render. */
  resources: string[];
}

/** Runs the fixture; rejects if it fails or has not exited after `ms`. */
async function renderInChild(ms: number): Promise<{ rendered: Rendered; wallMs: number }> {
  const started = Date.now();
  const { stdout } = await run(process.execPath, ['--import', 'tsx', FIXTURE], { cwd: ROOT, timeout: ms, killSignal: 'SIGKILL' });
  const wallMs = Date.now() - started;
  return { rendered: JSON.parse(stdout.trim().split('\n').pop()!) as Rendered, wallMs };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('server rendering', () => {
  it('a client needs no WebSocket class until it connects, and then says what to pass', () => {
    vi.stubGlobal('WebSocket', undefined); // as on Node 20
    const client = new RealtimeClient({ url: 'http://127.0.0.1:9', autoConnect: false });
    expect(client.status).toBe('closed');
    expect(() => client.connect()).toThrow(new TypeError('RealtimeClient needs a WebSocket class: on Node 20, pass { WebSocket } from "ws"'));
    expect(() => new RealtimeClient({ url: 'http://127.0.0.1:9' })).toThrow(/needs a WebSocket class/);
    void client.close();
  });

  it('renders loading without a WebSocket class, starts no timer or socket, and the process exits at once', async () => {
    // (a failed or hung child rejects: a non-zero exit code, or killed after 15 s)
    const { rendered, wallMs } = await renderInChild(15_000);
    expect(rendered.html).toBe('<main><p id="doc">loading</p><p id="connection">closed</p><p id="error">none</p></main>');
    // Nothing would keep Node alive: no timer (a cache's release timer, a reconnect), no network
    // socket or lookup. (Standard output is a pipe to this process: a PipeWrap, which is fine.)
    const alive = rendered.resources.filter((r) => /Timeout|Immediate|TCP|UDP|GetAddrInfo/.test(r));
    expect(alive, 'resources left by the render (a Timeout: the document cache release timer of each document read, which must not be ref()ed)').toEqual([]);
    // Loosely (slow CI machines): startup of Node and tsx plus the render, no one-second timer on top.
    expect(wallMs).toBeLessThan(5_000);
  });
});
