/**
 * How bench relays are configured: connection limits raised out of the way, and HS256 tokens
 * for the rows that measure authenticated connections.
 */
import { randomBytes } from 'node:crypto';
import { type ConnectionLimits, mintToken } from '../../server/index.js';
import type { Child } from './processes.js';

/**
 * Connection limits for every relay under benchmark. The defaults (100 writes/s and 500
 * frames/s per connection, 100 connections per user) are far below what one bench socket sends
 * (row 1: ≈ 560 writes/s per socket; row 2's single writer: thousands), so with them a row
 * would count `rate_limited` answers, or stall waiting for events that never come, instead of
 * measuring the relay. The buckets still run on every frame, as they do in production.
 */
export const BENCH_LIMITS: Partial<ConnectionLimits> = {
  writesPerSecond: 1e9,
  writeBurst: 1e9,
  framesPerSecond: 1e9,
  frameBurst: 1e9,
  maxSubscriptions: 1e9,
  maxConnectionsPerUser: 1e9,
};

/** A fresh HS256 secret (32 random bytes, base64url: 43 bytes, over the relay's minimum of 32). */
export function benchSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A token for `sub` with every right on every document, valid for an hour. */
export function benchToken(secret: string, sub: string): Promise<string> {
  return mintToken({ secret, sub, grants: { '*': ['read', 'write', 'presence'] }, ttlSeconds: 3600 });
}

/** `n` tokens, one user each (`<prefix>-0` …), as `n` users with one tab open would hold. */
export function benchTokens(secret: string, prefix: string, n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => benchToken(secret, `${prefix}-${i}`)));
}

/**
 * Throws when a relay started from servers/relay.ts refused anything since it started (a
 * limit, a token): a row would then count refusals as answers, or connections never made.
 */
export async function assertNoRefusals(relay: Child, which: string): Promise<void> {
  const { counts } = await relay.ask<{ counts: Record<string, number> }>({ type: 'refusals' }, 'refusals');
  const refused = Object.entries(counts).filter(([, c]) => c > 0);
  if (refused.length > 0) throw new Error(`${which} refused: ${JSON.stringify(Object.fromEntries(refused))}`);
}
