/** Tokens for tests: the relay's secret, tokens minted with it, and raw sockets that present them. */
import WebSocket from 'ws';
import type { ServerMessage } from '../../src/protocol/index.js';
import { mintToken } from '../../server/auth/mint.js';
import type { Grants } from '../../server/auth/principal.js';

/** The HS256 secret test relays verify with. */
export const SECRET = 'test-secret-of-at-least-32-bytes-0123456789';

/** A token for `sub` with `grants`, signed with {@link SECRET} unless told otherwise. */
export function tokenFor(
  sub: string,
  grants: Grants,
  options: { ttlSeconds?: number; secret?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  return mintToken({ secret: options.secret ?? SECRET, sub, grants, ...options });
}

/** Everything on every document. */
export const ALL: Grants = { '*': ['read', 'write', 'presence'] };

/** What a raw socket saw: its messages in order, and how it was closed. */
export interface RawRun {
  messages: ServerMessage[];
  close: { code: number; reason: string } | undefined;
}

/**
 * Opens a raw socket, sends `frames` (the first is usually the auth frame), and resolves with
 * what came back once the relay closes the socket or `ms` have passed. `then`, when given, runs
 * once every frame is answered and before the wait (say, writes whose events are awaited).
 */
export async function rawExchange(url: string, frames: unknown[], ms = 2000, then?: () => Promise<void>): Promise<RawRun> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'));
  const run: RawRun = { messages: [], close: undefined };
  ws.on('message', (data) => run.messages.push(JSON.parse(String(data)) as ServerMessage));
  const closed = new Promise<void>((resolve) =>
    ws.on('close', (code, reason) => {
      run.close = { code, reason: reason.toString() };
      resolve();
    }),
  );
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  for (const f of frames) ws.send(typeof f === 'string' ? f : JSON.stringify(f));
  if (then) {
    const rids = frames.flatMap((f) => (typeof f === 'object' && f !== null && 'rid' in f ? [(f as { rid: unknown }).rid] : []));
    const answered = () => rids.every((rid) => run.messages.some((m) => 'rid' in m && m.rid === rid));
    const start = Date.now();
    while (!answered() && !run.close && Date.now() - start < ms) await new Promise((r) => setTimeout(r, 5));
    await then();
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, ms))]);
  ws.terminate();
  return run;
}
