/** What readers of a cached document see, and what its failed writes report. */
import type { SyncError } from '../protocol/index.js';
import type { MutationKind } from './pending-mutation.js';

/** Where a document stands, as hooks show it. */
export type DocumentStatus = 'loading' | 'ready' | 'not-found' | 'deleted' | 'error';

/**
 * What readers see; the same object until something visible changes. A union on `status`:
 * `data` and `revision` are there exactly when the document is (`ready`, which it stays while
 * reconnecting and catching up); `deleted` keeps the revision it was deleted at, if it had
 * loaded; `error` always has its error.
 */
export type DocumentSnapshot<T = Record<string, unknown>> =
  | SnapshotOf<'loading', undefined, undefined>
  | SnapshotOf<'ready', T, number>
  | SnapshotOf<'not-found', undefined, undefined>
  | SnapshotOf<'deleted', undefined, number | undefined>
  | SnapshotOf<'error', undefined, undefined, SyncError>;

/** The fields of a snapshot in one status. */
interface SnapshotOf<S extends DocumentStatus, T, R, E = SyncError | undefined> {
  /** `loading` until the first answer; `ready` with data; `not-found`, `deleted` or `error`. */
  status: S;
  /** The visible data: the confirmed state with pending local writes applied. */
  data: T;
  /** The confirmed server revision the visible data is based on. */
  revision: R;
  /** Local writes not yet acknowledged. */
  pending: number;
  /**
   * The data was shown from storage (after a reload) and the relay has not confirmed it yet:
   * it may be behind. Cleared by the relay's first answer.
   */
  unconfirmed: boolean;
  /** The error behind `status: 'error'` (or `not-found`: the relay's `not_found`). */
  error: E;
}

/** A write that failed (rolled back, or refused before it could be sent), for `onError`. */
export interface WriteFailure {
  /** Why. */
  error: SyncError;
  /** Which write method it was. */
  write: MutationKind;
}
