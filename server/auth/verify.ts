/**
 * Token verification: a JWT checked with `jose` against one key whose type fixes the one
 * algorithm accepted (so `alg: none` and HS256 signed with a public key are refused), or a
 * verifier of the application's own. Either way the outcome is a checked {@link Principal} or
 * an `unauthorized` error; no message ever contains the token.
 */
import { type JsonWebKey as NodeJsonWebKey, type KeyObject, createPublicKey, createSecretKey } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type JWK, type JWTPayload, errors, jwtVerify } from 'jose';
import { SyncError, isSyncError } from '../../src/protocol/index.js';
import { type Principal, checkGrants, checkPrincipal } from './principal.js';

/** JWT settings: a shared `secret` (HS256) or a `publicKey` (RS256, ES256 or EdDSA, by its type). */
export interface JwtAuthOptions {
  /** HS256 key, at least 32 bytes. */
  secret?: string;
  /** RS256, ES256 (P-256) or EdDSA (Ed25519) key: SPKI PEM text, or a JWK (object or JSON text). */
  publicKey?: string | JsonWebKey;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Required `aud` (one of them, when the token lists several), when set. */
  audience?: string;
  /** Clock skew forgiven on `exp` and `nbf`, in seconds. Default 5. */
  clockToleranceSeconds?: number;
}

/** A verifier of your own (sessions, opaque tokens, another JWT setup). Throw to refuse. */
export interface CustomAuthOptions {
  /**
   * Turns a token into a principal, or throws to refuse it: a `SyncError` with code
   * `unauthorized` or `forbidden` keeps its message, anything else is refused as `unauthorized`
   * and logged. Throw `new SyncError('unavailable', ...)` when the token cannot be checked for
   * now (your session store is down): the client is told to try again later, not refused.
   * `request` is the WebSocket upgrade request.
   */
  verify(token: string, request: IncomingMessage): Principal | Promise<Principal>;
}

/** How the relay checks tokens. */
export type AuthOptions = JwtAuthOptions | CustomAuthOptions;

/**
 * Verifies one token; resolves with a checked principal, or rejects with `unauthorized` (the
 * token is refused) or `unavailable` (it could not be checked for now).
 */
export interface TokenVerifier {
  (token: string | undefined, request: IncomingMessage): Promise<Principal>;
  /** Clock skew forgiven past a principal's `expiresAt`, in ms. */
  readonly graceMs: number;
}

const unauthorized = (message: string) => new SyncError('unauthorized', message);
const MIN_SECRET_BYTES = 32;

type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256' | 'EdDSA';

/** The key and the one algorithm it signs with. Throws a plain Error (a configuration fault). */
function keyOf(options: JwtAuthOptions): { key: KeyObject; alg: JwtAlgorithm } {
  if ((options.secret === undefined) === (options.publicKey === undefined)) {
    throw new Error('auth needs exactly one of secret (HS256) or publicKey (RS256, ES256, EdDSA), or a verify function');
  }
  if (options.secret !== undefined) {
    if (typeof options.secret !== 'string' || Buffer.byteLength(options.secret) < MIN_SECRET_BYTES) {
      throw new Error(`auth.secret must be a string of at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 32)`);
    }
    return { key: createSecretKey(Buffer.from(options.secret)), alg: 'HS256' };
  }
  let key: KeyObject;
  try {
    const pk = options.publicKey!;
    const jwk = typeof pk === 'object' ? pk : pk.trimStart().startsWith('{') ? (JSON.parse(pk) as JsonWebKey) : undefined;
    key = jwk ? createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' }) : createPublicKey(pk as string);
  } catch (err) {
    throw new Error(`auth.publicKey is not a usable public key (PEM or JWK): ${(err as Error).message}`, { cause: err });
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return { key, alg: 'RS256' };
  if (type === 'ed25519') return { key, alg: 'EdDSA' };
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, alg: 'ES256' };
  throw new Error(`auth.publicKey must be an RSA, P-256 or Ed25519 key, got ${type}${type === 'ec' ? ` on ${key.asymmetricKeyDetails?.namedCurve}` : ''}`);
}

/** Words for what jose refused, never quoting the token. */
function refusal(err: unknown, alg: JwtAlgorithm): SyncError | Error {
  if (err instanceof SyncError) return err;
  if (err instanceof errors.JWTExpired) return unauthorized('the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    return unauthorized(err.reason === 'missing' ? `the token has no "${err.claim}" claim` : `the token's "${err.claim}" claim is not accepted (${err.reason})`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthorized(`the token's algorithm is not accepted: this relay takes ${alg} only`);
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthorized('the token\'s signature does not verify');
  if (err instanceof errors.JOSEError) return unauthorized('the token is malformed: not a signed JWT');
  return err instanceof Error ? err : new Error(String(err)); // not the token's fault: the caller logs it
}

function principalOf(payload: JWTPayload): Principal {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
    throw unauthorized('the token\'s "sub" claim must be a string of 1 to 256 characters');
  }
  return { user: payload.sub, grants: checkGrants(payload.grants), expiresAt: payload.exp! * 1000 };
}

/** Builds the relay's verifier. Throws (a plain Error) when the options cannot work. */
export function createVerifier(options: AuthOptions, log: (line: string) => void): TokenVerifier {
  if ('verify' in options) {
    if (typeof options.verify !== 'function') throw new Error('auth.verify must be a function (token, request) => Principal');
    const custom = async (token: string | undefined, request: IncomingMessage) => {
      if (!token) throw unauthorized('no token: send one in the first frame');
      let principal: unknown;
      try {
        principal = await options.verify(token, request);
      } catch (err) {
        // (isSyncError: also one made by another copy of syncdoc, the app's own dependency)
        const e = isSyncError(err) ? err : undefined;
        if (e && (e.code === 'unauthorized' || e.code === 'forbidden')) throw unauthorized(e.message);
        if (e && (e.code === 'unavailable' || e.code === 'timeout')) throw new SyncError('unavailable', `the token could not be checked for now: ${e.message}`);
        log(`auth.verify refused a token: ${err instanceof Error ? err.message : String(err)}`);
        throw unauthorized('the token was refused');
      }
      return checkPrincipal(principal);
    };
    return Object.assign(custom, { graceMs: 0 });
  }
  const { key, alg } = keyOf(options);
  const tolerance = options.clockToleranceSeconds ?? 5;
  if (typeof tolerance !== 'number' || !(tolerance >= 0 && tolerance <= 300)) {
    throw new Error(`auth.clockToleranceSeconds must be a number of seconds from 0 to 300, got ${String(tolerance)}`);
  }
  // Handed to jose as one JWK object (converted once, then cached by jose), which works the same
  // in every JavaScript realm; a KeyObject does not (jose's web build checks its class).
  const jwk = { ...(key.export({ format: 'jwk' }) as JWK), alg };
  const checks = {
    algorithms: [alg],
    requiredClaims: ['exp', 'sub'],
    clockTolerance: tolerance,
    ...(options.issuer !== undefined && { issuer: options.issuer }),
    ...(options.audience !== undefined && { audience: options.audience }),
  };
  const jwt = async (token: string | undefined) => {
    if (!token) throw unauthorized('no token: send one in the first frame');
    try {
      const { payload } = await jwtVerify(token, jwk, checks);
      return principalOf(payload);
    } catch (err) {
      const e = refusal(err, alg);
      if (e instanceof SyncError) throw e;
      // Not the token's fault: the relay's own. The client is told to try again, not refused.
      log(`could not verify a token: ${e.message}`);
      throw new SyncError('unavailable', 'the relay could not verify the token for now (it logged why)');
    }
  };
  return Object.assign(jwt, { graceMs: checks.clockTolerance * 1000 });
}
