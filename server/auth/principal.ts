/**
 * Who a connection is and what it may do. A verified token becomes a {@link Principal}; its
 * grants are compiled once into {@link Permissions}, so the check each request pays is two or
 * three map lookups.
 */
import { SyncError } from '../../src/protocol/index.js';

/** A right on documents: `read` (get, catch-up, events), `write` (every write), `presence` (join). */
export type Right = 'read' | 'write' | 'presence';

/**
 * Rights by scope. A key is `'*'` (every document), `'<service>'` (every document of one
 * service) or `'<service>/<id>'` (one document); a document has the union of the rights of the
 * keys that cover it.
 */
export type Grants = Record<string, Right[]>;

/** A verified identity: the user (a token's `sub`), its grants, and when it stops being valid. */
export interface Principal {
  /** The user, as the token names it (`sub`). */
  user: string;
  /** What the user may do. */
  grants: Grants;
  /** When the token expires (ms since the epoch); the connection closes then unless refreshed. */
  expiresAt?: number;
}

const RIGHTS: readonly Right[] = ['read', 'write', 'presence'];
const SCOPE_RE = /^(\*|[A-Za-z0-9_-]{1,64}(\/[A-Za-z0-9_-]{1,128})?)$/;
const MAX_GRANT_KEYS = 1000;

const refused = (why: string) => new SyncError('unauthorized', `the token's grants are malformed: ${why}`);

/** Checks a `grants` claim (or what a custom verifier returned); throws `unauthorized` naming the fault. */
export function checkGrants(value: unknown): Grants {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refused('expected an object of scope: rights');
  const keys = Object.keys(value);
  if (keys.length > MAX_GRANT_KEYS) throw refused(`more than ${MAX_GRANT_KEYS} scopes`);
  const grants: Grants = {};
  for (const key of keys) {
    if (!SCOPE_RE.test(key)) throw refused(`scope ${JSON.stringify(key)} is not '*', a service or service/id`);
    const rights = (value as Record<string, unknown>)[key];
    if (!Array.isArray(rights) || !rights.every((r) => RIGHTS.includes(r as Right))) {
      throw refused(`the rights of ${JSON.stringify(key)} must be a list of ${RIGHTS.map((r) => `"${r}"`).join(', ')}`);
    }
    // (defineProperty: a service may be named __proto__, which plain assignment would swallow)
    Object.defineProperty(grants, key, { value: [...new Set(rights as Right[])], enumerable: true, writable: true, configurable: true });
  }
  return grants;
}

/** Checks a whole principal (from a custom verifier); throws `unauthorized` naming the fault. */
export function checkPrincipal(value: unknown): Principal {
  const p = value as Partial<Principal> | null;
  if (typeof p !== 'object' || p === null) throw new SyncError('unauthorized', 'the verifier returned no principal');
  if (typeof p.user !== 'string' || p.user.length === 0 || p.user.length > 256) {
    throw new SyncError('unauthorized', 'the principal needs a user: a string of 1 to 256 characters');
  }
  if (p.expiresAt !== undefined && !Number.isFinite(p.expiresAt)) {
    throw new SyncError('unauthorized', 'the principal\'s expiresAt must be ms since the epoch');
  }
  const principal: Principal = { user: p.user, grants: checkGrants(p.grants) };
  if (p.expiresAt !== undefined) principal.expiresAt = p.expiresAt;
  return principal;
}

const BIT: Record<Right, number> = { read: 1, write: 2, presence: 4 };

/** A principal's grants, compiled for lookups; `everything` for connections of a relay without auth. */
export class Permissions {
  readonly #bits = new Map<string, number>();
  readonly #all: boolean;

  private constructor(grants: Grants | 'everything') {
    this.#all = grants === 'everything';
    if (grants === 'everything') return;
    for (const [scope, rights] of Object.entries(grants)) {
      this.#bits.set(scope, rights.reduce((b, r) => b | BIT[r], 0));
    }
  }

  /** Everything on every document: a relay without auth. */
  static readonly EVERYTHING = new Permissions('everything');

  /** Compiles a principal's grants. */
  static of(grants: Grants): Permissions {
    return new Permissions(grants);
  }

  /**
   * Whether `right` is granted on `service/id`; without `id`, on every document of `service`;
   * without either, on every document.
   */
  allows(right: Right, service?: string, id?: string): boolean {
    if (this.#all) return true;
    const bit = BIT[right];
    const has = (scope: string) => ((this.#bits.get(scope) ?? 0) & bit) !== 0;
    if (has('*')) return true;
    if (service === undefined) return false;
    if (has(service)) return true;
    return id !== undefined && has(`${service}/${id}`);
  }
}

/**
 * Who makes a request, as the request path sees it: the user (`null` on a relay without auth)
 * and what they may do. Every transport turns its credentials into one of these.
 */
export interface Caller {
  /** The token's user; `null` for anyone on a relay without auth. */
  readonly user: string | null;
  /** Their compiled grants. */
  readonly permissions: Permissions;
}

/** The caller of a verified principal. */
export function callerOf(principal: Principal): Caller {
  return { user: principal.user, permissions: Permissions.of(principal.grants) };
}

/** Anyone, on a relay without auth: everything is allowed. */
export const ANYONE: Caller = { user: null, permissions: Permissions.EVERYTHING };

/** A connection that has not authenticated yet: nothing is allowed. */
export const NOBODY: Caller = { user: null, permissions: Permissions.of({}) };
