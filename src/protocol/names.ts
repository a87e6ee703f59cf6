/** Service and document-id rules, checked at both ends before anything reaches storage. */
import { invalid } from './errors.js';

const SERVICE_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

/** Throws `invalid` unless `service` matches `^[A-Za-z0-9_-]{1,64}$`. */
export function assertService(service: unknown): asserts service is string {
  if (typeof service !== 'string' || !SERVICE_RE.test(service)) {
    throw invalid(`service must match ${SERVICE_RE.source}, got ${JSON.stringify(service) ?? String(service)}`);
  }
}

/** Throws `invalid` unless `id` matches `^[A-Za-z0-9_-]{1,128}$`. */
export function assertDocId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID_RE.test(id)) {
    throw invalid(`id must match ${ID_RE.source}, got ${JSON.stringify(id) ?? String(id)}`);
  }
}

/** `prefix` and the base64url form of `bytes` bytes from a CSPRNG: 4 characters (6 bits each) per 3 bytes. */
function randomId(prefix: string, bytes: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  return prefix + btoa(String.fromCharCode(...random)).replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * A new document id: `doc_` and 16 URL-safe characters (96 random bits), so ids made by many
 * clients at once do not collide.
 */
export function generateDocId(): string {
  return randomId('doc_', 12);
}

/** A client-chosen id for one write, so a write resent after a reconnect is applied once. */
export function generateMutationId(): string {
  return randomId('m_', 9);
}

/** Throws `invalid` unless `value` is a revision (a non-negative integer); `name` is the field it came in. */
export function assertRevision(value: unknown, name: string): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(`${name} must be a non-negative integer`);
}

const MUTATION_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws `invalid` unless `mutationId` is 1-64 URL-safe characters. */
export function assertMutationId(mutationId: unknown): asserts mutationId is string {
  if (typeof mutationId !== 'string' || !MUTATION_ID_RE.test(mutationId)) {
    throw invalid(`mutationId must match ${MUTATION_ID_RE.source}`);
  }
}
