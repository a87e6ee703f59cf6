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

// Random bytes are drawn 256 at a time: one CSPRNG call per id made a sixth of a writing
// client's CPU time (every write carries a new mutation id). Pooled, the ids stay unpredictable.
let pool: Uint8Array | undefined;
let used = 0;

/** `prefix` and `chars` random characters of `0-9a-v`, 5 bits each, from a CSPRNG. */
function randomId(prefix: string, chars: number): string {
  let id = prefix;
  for (let i = 0; i < chars; i++) {
    if (!pool || used == pool.length) {
      pool = crypto.getRandomValues(new Uint8Array(256));
      used = 0;
    }
    id += (pool[used++]! & 31).toString(32);
  }
  return id;
}

/**
 * A new document id: `doc_` and 20 random characters (100 bits), so ids made by many clients at
 * once do not collide.
 */
export function generateDocId(): string {
  return randomId('doc_', 20);
}

/**
 * A client-chosen id for one write, so a write resent after a reconnect is applied once. Random
 * (70 bits), not a counter: events show mutation ids to every subscriber, and an id someone
 * could predict could be used first, making the real write look like a resend.
 */
export function generateMutationId(): string {
  return randomId('m_', 14);
}

/**
 * A new incarnation id: 12 random characters (60 bits), made at every create. A document that
 * the store lost and someone created again gets a new one, so clients holding the old document
 * can tell the two apart although both start at revision 1. (Documents written before
 * incarnations existed read as `c` + their createdAt, 14 characters: never one of these.)
 */
export function generateIncarnation(): string {
  return randomId('', 12);
}

const INCARNATION_RE = /^[A-Za-z0-9_-]+$/;
const MAX_INCARNATION_CHARS = 64;

/** Throws `invalid` unless `incarnation` is a string of 1 to 64 characters of `A-Za-z0-9_-`. */
export function assertIncarnation(incarnation: unknown): asserts incarnation is string {
  if (typeof incarnation !== 'string' || incarnation.length > MAX_INCARNATION_CHARS || !INCARNATION_RE.test(incarnation)) {
    const got =
      typeof incarnation !== 'string'
        ? incarnation === null ? 'null' : Array.isArray(incarnation) ? 'an array' : typeof incarnation
        : incarnation.length > MAX_INCARNATION_CHARS ? `${incarnation.length} characters` : JSON.stringify(incarnation);
    throw invalid(`incarnation must be 1 to ${MAX_INCARNATION_CHARS} characters of A-Za-z0-9_-, got ${got}`);
  }
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
