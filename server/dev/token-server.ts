/**
 * DEVELOPMENT ONLY. A token endpoint for `npm start` and the e2e tests, so the demos can run
 * against a relay with auth without an application backend:
 *
 *   GET /token?user=alice&grant=permissions:read,write&grant=todos:read[&ttl=600]
 *   -> 200 { "token": "<JWT>", "user": "alice", "grants": {...}, "ttlSeconds": 600 }
 *
 * It signs whatever it is asked for: ANYONE WHO CAN REACH IT GETS ANY RIGHTS ON EVERY DOCUMENT.
 * That is why it binds to loopback only (any other host is refused at start), answers only
 * requests whose `Host` is a loopback name (so a DNS-rebinding page cannot use it), and gives
 * CORS access only to loopback origins (Storybook on localhost). Never run it next to a relay
 * whose documents matter; a real application mints tokens in its own backend, after its own
 * login (see the README).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mintToken, parseGrants } from '../auth/mint.js';
import { isLoopback } from '../relay.js';

/** Options of {@link startTokenServer}. */
export interface TokenServerOptions {
  /** The relay's HS256 secret (at least 32 bytes). */
  secret: string;
  /** Port to listen on; 0 picks a free one. Default 8788. */
  port?: number;
  /** Loopback interface to bind (`127.0.0.1`, `::1`, `localhost`). Default `127.0.0.1`. */
  host?: string;
  /** Lifetime of a token when the request names none, in seconds. Default 600 (so refreshes happen). */
  defaultTtlSeconds?: number;
  /** Longest lifetime handed out; a longer `ttl` is cut to it. Default 3600. */
  maxTtlSeconds?: number;
}

/** A running token server. */
export interface TokenServer {
  /** The endpoint, `http://HOST:PORT/token`; add `?user=...&grant=...`. */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

const MIN_SECRET_BYTES = 32;
const PARAMS = new Set(['user', 'grant', 'ttl']);

/** A request the endpoint refuses, with its HTTP status. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `http://localhost:6006` and the like: the only origins allowed to read tokens from a page. */
function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopback(url.hostname);
  } catch {
    return false;
  }
}

/** The host name of a `Host` header (`127.0.0.1:8788`, `[::1]:8788`, `localhost`). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  try {
    return new URL(`http://${header}`).hostname;
  } catch {
    return '';
  }
}

/** What a token request asks for, checked. */
function readRequest(url: URL, defaultTtl: number, maxTtl: number): { user: string; grants: string[]; ttl: number } {
  for (const key of url.searchParams.keys()) {
    if (!PARAMS.has(key)) throw new Refusal(400, `unknown parameter ${JSON.stringify(key)}: use user, grant (repeatable) and ttl`);
  }
  const users = url.searchParams.getAll('user');
  const user = users[0] ?? '';
  if (users.length !== 1 || user.length === 0 || user.length > 256) {
    throw new Refusal(400, 'give one user: ?user=alice (1 to 256 characters)');
  }
  const ttlParam = url.searchParams.get('ttl');
  let ttl = defaultTtl;
  if (ttlParam !== null) {
    ttl = Number(ttlParam);
    if (!/^\d+$/.test(ttlParam) || ttl < 1) throw new Refusal(400, `ttl must be a whole number of seconds, at least 1; got ${JSON.stringify(ttlParam)}`);
  }
  return { user, grants: url.searchParams.getAll('grant'), ttl: Math.min(ttl, maxTtl) };
}

/**
 * Starts the dev-only token endpoint (see the file comment for why it must stay on loopback).
 * Rejects when `host` is not loopback, the secret is too short, or the port is taken.
 */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host)) {
    throw new Error(`the dev token server mints tokens with any rights for anyone who asks: it binds to loopback only, not ${host}`);
  }
  if (typeof options.secret !== 'string' || Buffer.byteLength(options.secret) < MIN_SECRET_BYTES) {
    throw new Error(`the token server needs the relay's secret, at least ${MIN_SECRET_BYTES} bytes`);
  }
  const maxTtl = options.maxTtlSeconds ?? 3600;
  const defaultTtl = Math.min(options.defaultTtlSeconds ?? 600, maxTtl);
  const { secret } = options;

  const answer = (res: ServerResponse, status: number, body: unknown, cors: Record<string, string>) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...cors });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    const cors: Record<string, string> = { vary: 'Origin' };
    try {
      if (!isLoopback(hostName(req.headers.host))) throw new Refusal(403, 'this dev token server answers requests to a loopback host only');
      if (origin !== undefined) {
        if (!isLoopbackOrigin(origin)) throw new Refusal(403, `origin ${origin.slice(0, 200)} is not allowed: loopback origins only`);
        cors['access-control-allow-origin'] = origin;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/token') throw new Refusal(404, 'not found: GET /token?user=alice&grant=service:read,write');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET', 'access-control-max-age': '600' });
        res.end();
        return;
      }
      if (req.method !== 'GET') throw new Refusal(405, 'use GET');
      const { user, grants: grantArgs, ttl } = readRequest(url, defaultTtl, maxTtl);
      let grants;
      try {
        grants = parseGrants(grantArgs);
      } catch (err) {
        throw new Refusal(400, (err as Error).message);
      }
      const token = await mintToken({ secret, sub: user, grants, ttlSeconds: ttl });
      answer(res, 200, { token, user, grants, ttlSeconds: ttl }, cors);
    } catch (err) {
      const status = err instanceof Refusal ? err.status : 500;
      answer(res, status, { error: err instanceof Error ? err.message : String(err) }, cors);
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8788, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/token`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
