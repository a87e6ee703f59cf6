/**
 * A short, observable log of what happened to one cached document (events applied, answers,
 * rollbacks, catch-ups), for the devtools panel. Kept apart from the document state so that
 * logging never changes what readers of the document see.
 */

/** One line of the log. */
export interface Activity {
  /** When it happened (ms since the epoch). */
  at: number;
  /** What kind of thing happened. */
  kind: 'event' | 'ack' | 'retry' | 'rollback' | 'catch-up';
  /** A one-line description. */
  detail: string;
}

const MAX_LINES = 50;

/** The last {@link MAX_LINES} activities of one document. */
export class ActivityLog {
  #lines: readonly Activity[] = [];
  readonly #listeners = new Set<() => void>();

  /** Appends one line and tells listeners. */
  add(kind: Activity['kind'], detail: string): void {
    this.#lines = [...this.#lines.slice(-(MAX_LINES - 1)), { at: Date.now(), kind, detail }];
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
