/**
 * Errors are values with a code: the relay sends them over the wire as {@link SyncErrorShape}
 * and the client rebuilds a {@link SyncError} from them, so both ends speak one vocabulary.
 */

/** Every error code syncdoc can answer with. */
export type SyncErrorCode =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'internal';

/** The HTTP-like status that goes with each code. */
export const STATUS_BY_CODE: Readonly<Record<SyncErrorCode, number>> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  timeout: 504,
  internal: 500,
};

/** An error as it travels on the wire. */
export interface SyncErrorShape {
  /** HTTP-like status (409 for `conflict`, 404 for `not_found`, ...). */
  status: number;
  /** Machine-readable code. */
  code: SyncErrorCode;
  /** Human-readable explanation. */
  message: string;
  /** For `conflict` on an existing document: its current revision. */
  revision?: number;
  /** For `rate_limited`: how long to wait before trying again, in ms. */
  retryAfterMs?: number;
}

/** The error every syncdoc call rejects with. */
export class SyncError extends Error implements SyncErrorShape {
  override name = 'SyncError';
  // (status and code are only declared: the constructor always sets them)
  /** HTTP-like status (409 for `conflict`, 404 for `not_found`, ...). */
  declare readonly status: number;
  /** Machine-readable code. */
  declare readonly code: SyncErrorCode;
  /** For `conflict`: the document's current revision, when it exists. */
  readonly revision?: number;
  /** For `rate_limited`: how long to wait before trying again, in ms. */
  readonly retryAfterMs?: number;

  constructor(code: SyncErrorCode, message: string, extra?: { revision?: number; status?: number; retryAfterMs?: number }) {
    super(message);
    this.status = extra?.status ?? STATUS_BY_CODE[code];
    this.code = code;
    if (extra?.revision !== undefined) this.revision = extra.revision;
    if (extra?.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
  }

  /** The wire form of this error. */
  toJSON(): SyncErrorShape {
    // (JSON leaves out an undefined revision or retryAfterMs)
    const { status, code, message, revision, retryAfterMs } = this;
    return { status, code, message, revision, retryAfterMs };
  }

  /** Rebuilds an error received from the wire. */
  static from(shape: SyncErrorShape): SyncError {
    const code: SyncErrorCode = shape.code in STATUS_BY_CODE ? shape.code : 'internal';
    const retryAfterMs = Number.isFinite(shape.retryAfterMs) ? shape.retryAfterMs : undefined;
    return new SyncError(code, shape.message, { status: shape.status, revision: shape.revision, retryAfterMs });
  }
}

/** Shorthand for a 400 `invalid` error. */
export function invalid(message: string): SyncError {
  return new SyncError('invalid', message);
}

/** `err` if it is a {@link SyncError}, else a `code` error (default `internal`) with its message. */
export function asSyncError(err: unknown, code: SyncErrorCode = 'internal'): SyncError {
  return err instanceof SyncError ? err : new SyncError(code, err instanceof Error ? err.message : String(err));
}

/** True when `value` is a {@link SyncError} (also across bundle copies of this module). */
export function isSyncError(value: unknown): value is SyncError {
  return value instanceof SyncError || (value instanceof Error && value.name === 'SyncError' && 'code' in value);
}
