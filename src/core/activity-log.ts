/**
 * A short, observable log of what happened to one cached document (events applied, answers,
 * rollbacks, catch-ups), for the devtools panel. Kept apart from the document state so that
 * logging never changes what readers of the document see. Lines hold the facts; the panel
 * (`syncdoc/devtools`) words them.
 */
import type { SyncOperation } from '../protocol/index.js';
import type { MutationKind } from './pending-mutation.js';

/** One line of the log. */
export interface Activity {
  /** When it happened (ms since the epoch). */
  at: number;
  /**
   * What happened: `event` (an event applied), `ack` (a local write answered), `retry` (an
   * `update` re-run after a conflict, or a write sent again after `rate_limited`), `rollback` (a
   * local write refused and undone), `catch-up` (missed changes or a snapshot fetched, a
   * catch-up that failed, or an event whose diff did not apply), `dropped` (what the cache held
   * is not what the relay has: the document was lost, created again, or is no longer readable;
   * the writes made on it roll back after this line).
   */
  kind: 'event' | 'ack' | 'retry' | 'rollback' | 'catch-up' | 'dropped';
  /**
   * The revision: the event's, the one an `ack` reached, the one a conflict named (`retry`), the
   * snapshot's (`catch-up`), or the event's whose diff did not apply (`catch-up` with `error`).
   */
  revision?: number;
  /** `event`: the write that produced it. */
  operation?: SyncOperation;
  /** `ack`, `retry`, `rollback`: the local write's kind. */
  write?: MutationKind;
  /** The id of the write: the event's (when its writer gave one), or the local write's. */
  mutationId?: string | undefined;
  /** `catch-up`: how many missed changes came, after revision `since`. */
  changes?: number;
  /** `catch-up`: the revision the changes came after. */
  since?: number;
  /** What went wrong: the error code of a `rollback`, the message of a failed `catch-up` or of `dropped`. */
  error?: string;
}

const MAX_LINES = 50;

/** The last {@link MAX_LINES} activities of one document. */
export class ActivityLog {
  #lines: readonly Activity[] = [];
  readonly #listeners = new Set<() => void>();

  /** Appends one line and tells listeners. */
  add(kind: Activity['kind'], facts: Omit<Activity, 'at' | 'kind'>): void {
    this.#lines = [...this.#lines.slice(-(MAX_LINES - 1)), { at: Date.now(), kind, ...facts }];
    for (const l of [...this.#listeners]) l();
  }

  /** The lines, oldest first; the same array until the next line. */
  getSnapshot = (): readonly Activity[] => this.#lines;

  /** Listens for new lines. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
}
