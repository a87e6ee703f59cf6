/**
 * A cached document's state as one record, changed only by {@link reduce}: what the relay last
 * confirmed (revision, data, incarnation), or why there is nothing (loading, missing, failed).
 * The reducer is pure, so every transition is testable on its own; the entry around it does the
 * talking (loads, catch-ups, writes) and dispatches what it learns.
 */
import { type ChangeRecord, type JsonObject, type SyncError, applyDiff } from '../protocol/index.js';
import { replaceEqualDeep } from './structural-sharing.js';

/** What the relay confirmed. */
export interface Confirmed {
  revision: number;
  data: JsonObject;
  deleted: boolean;
  /** Which creation of the document this is (see `SyncDocument.incarnation`). */
  incarnation: string | undefined;
}

/** The entry's state. */
export interface EntryState {
  /** With nothing confirmed: why (`loading`, `not-found`, `error`). */
  status: 'loading' | 'not-found' | 'error';
  confirmed?: Confirmed | undefined;
  error?: SyncError | undefined;
  /** The confirmed state was read from storage and the relay has not answered for it yet. */
  unconfirmed?: boolean | undefined;
}

/** A full state, as a load, a write's answer, a catch-up snapshot or storage gives it. */
export interface Snapshot {
  revision: number;
  data: Record<string, unknown>;
  deleted: boolean;
  incarnation?: string | undefined;
  /** It comes from storage, not the relay. */
  unconfirmed?: boolean;
  /** The relay's state now, behind what is shown (its data went back): replaces it all the same. */
  behind?: boolean;
}

/** One write as events and catch-up answers describe it. */
export type Change = Pick<ChangeRecord, 'revision' | 'operation'> & { diff?: ChangeRecord['diff']; data?: Record<string, unknown> };

/** What can happen to an entry. */
export type EntryAction =
  /** A load starts (again): nothing to show yet, no error. */
  | { type: 'load' }
  /** A load failed; ignored when something is confirmed meanwhile (an event brought the document). */
  | { type: 'fail'; status: 'not-found' | 'error'; error: SyncError }
  /** A full state. Applied when newer, when of another incarnation, or over one from storage. */
  | { type: 'snapshot'; snapshot: Snapshot }
  /**
   * The change that follows the confirmed revision (throws when its diff does not fit): what
   * it was, and what it changed (an event's metadata and payload, or a catch-up's record twice).
   */
  | { type: 'change'; change: Pick<Change, 'revision' | 'operation'>; body: Pick<Change, 'diff' | 'data'> }
  /** What the entry had is no longer true (lost by the relay, or no longer readable). */
  | { type: 'drop'; status: 'loading' | 'not-found' | 'error'; error?: SyncError | undefined };

/** Whether `incarnation` is another creation of the document than the confirmed state's (unknown on either side: not). */
export function otherIncarnation(c: Confirmed | undefined, incarnation: string | undefined): boolean {
  return c?.incarnation !== undefined && incarnation !== undefined && incarnation !== c.incarnation;
}

/** The first state of an entry. */
export const INITIAL: EntryState = { status: 'loading' };

/** The state after `action`; the same object when nothing changed. */
export function reduce(state: EntryState, action: EntryAction): EntryState {
  const c = state.confirmed;
  switch (action.type) {
    case 'load':
      return c ? state : { status: 'loading' };
    case 'fail':
      return c ? state : { status: action.status, error: action.error };
    case 'drop':
      return { status: action.status, error: action.error };
    case 'snapshot': {
      const s = action.snapshot;
      // Storage only stands in until the relay's first word: it never replaces anything the
      // relay said (a state of any incarnation, that there is none, a drop), only the start.
      if (s.unconfirmed && state !== INITIAL) return state;
      const other = otherIncarnation(c, s.incarnation);
      // An older (or the same) revision of this incarnation says nothing new: unless what is
      // shown came from storage, which the relay's word replaces whatever its revision (the
      // relay may be behind what was saved: its Redis restored from an older copy).
      if (c && !other && !s.behind && (s.unconfirmed || (!state.unconfirmed && s.revision <= c.revision))) return state;
      const data = other ? (s.data as JsonObject) : replaceEqualDeep(c?.data, s.data as JsonObject);
      return { status: 'loading', confirmed: { revision: s.revision, data, deleted: s.deleted, incarnation: s.incarnation ?? c?.incarnation }, unconfirmed: s.unconfirmed };
    }
    case 'change': {
      const { revision, operation } = action.change;
      const { diff, data } = action.body;
      if (!c || revision !== c.revision + 1) return state;
      let next = c.data;
      if (operation !== 'delete') {
        // Copy-on-write along the changed paths only, freezing just what is new. Same structural
        // sharing as an Immer draft, without its walk over every sibling on the path.
        if (diff) next = applyDiff(c.data, diff, { freeze: true });
        else if (data) next = replaceEqualDeep(c.data, data as JsonObject);
      }
      // The relay's own change, next after the revision shown: it confirms what storage showed
      // (the relay sends changes of the incarnation held only), and the result.
      return { status: state.status, confirmed: { revision, data: next, deleted: operation === 'delete', incarnation: c.incarnation } };
    }
  }
}
