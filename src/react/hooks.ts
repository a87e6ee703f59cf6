/** The hooks: thin adapters of the framework-free engine to `useSyncExternalStore`. */
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { useSyncExternalStoreWithSelector } from 'use-sync-external-store/shim/with-selector';
import { type DocumentActions, documentActions } from '../core/document-actions.js';
import { DocumentEntry, type DocumentSnapshot, type WriteFailure } from '../core/document-entry.js';
import type { ConnectionStatus } from '../core/connection.js';
import type { RealtimeClient } from '../core/realtime-client.js';
import type { DocumentData } from '../core/sync-client.js';
import { type EventFilter, type ReturnMode, type SyncError, type SyncEvent, asSyncError } from '../protocol/index.js';
import { useRealtimeContext } from './context.js';

/** The client of the nearest {@link RealtimeProvider}. */
export function useRealtime(): RealtimeClient {
  return useRealtimeContext().client;
}

/** The connection status; re-renders when it changes. */
export function useConnectionStatus(): ConnectionStatus {
  const client = useRealtime();
  const subscribe = useCallback((onChange: () => void) => client.on('status', onChange), [client]);
  return useSyncExternalStore(subscribe, () => client.status, () => client.status);
}

/**
 * Why the connection is down or not coming up: a relay it cannot reach (`unavailable`, naming
 * the URL and the cause), or what the relay said: `unauthorized` (the token was refused
 * or expired: the client stops, and writes made meanwhile roll back with that error, until
 * `useRealtime().connect()`), `rate_limited` (too many connections for this user) or
 * `unavailable` (the token function failed); after those two the client keeps trying.
 * `undefined` while connected, or while reconnecting for no known reason.
 */
export function useConnectionError(): SyncError | undefined {
  const client = useRealtime();
  const subscribe = useCallback(
    (onChange: () => void) => {
      const offStatus = client.on('status', onChange);
      const offError = client.on('error', onChange);
      return () => {
        offStatus();
        offError();
      };
    },
    [client],
  );
  return useSyncExternalStore(subscribe, () => client.connectionError, () => client.connectionError);
}

/** Options of {@link useSyncDocument}. */
export interface UseSyncDocumentOptions<T, S> {
  /** Picks what the component needs; it re-renders only when this value changes (by `isEqual`). */
  select?: (data: T) => S;
  /** Compares two selected values; default `Object.is`. */
  isEqual?: (a: S, b: S) => boolean;
  /** Creates the document with this data when it does not exist. */
  create?: T;
  /** Suspend while loading and throw errors to the nearest error boundary. */
  suspense?: boolean;
  /**
   * Called for every write of this document that fails while this component is mounted (rolled
   * back, or refused before it was sent), whether or not anyone awaits its promise.
   */
  onError?: (failure: WriteFailure) => void;
}

/**
 * What {@link useSyncDocument} returns: the document's state, a union discriminated by `status`
 * (see {@link DocumentSnapshot}), and its write methods, whatever the status. Once
 * `status === 'ready'`, `data` is the data (or `select(data)`: the server state with pending
 * local writes applied) and `revision` the server revision it is based on; in every other
 * status `data` is `undefined`.
 */
export type SyncDocumentState<T, S = T> = DocumentSnapshot<S> & DocumentActions<T>;

/**
 * A live document: loads it, follows every change in revision order, and exposes optimistic
 * write methods (`update`, `replace`, `merge`, `mutate`, `delete`). Errors are data
 * (`status: 'error'`, `error`) unless `suspense` is on.
 */
export function useSyncDocument<T extends object = DocumentData, S = T>(
  service: string,
  id: string,
  options: UseSyncDocumentOptions<T, S> = {},
): SyncDocumentState<T, S> {
  const { cache } = useRealtimeContext();
  const create = options.create as Record<string, unknown> | undefined;
  // Bad names or create data are errors as data (status 'error'), not thrown during render.
  const { entry, actions } = useMemo(() => {
    try {
      return cache.document<T>(service, id, create);
    } catch (err) {
      // A stand-in that never loads: status 'error', and writes that reject with the error.
      const entry = new DocumentEntry(service, id, { onIdle: () => {}, refused: asSyncError(err, 'invalid') });
      return { entry, actions: documentActions<T>(entry, 0) };
    }
  }, [cache, service, id]);
  // (create is handed to the shared entry on this hook's first render; later changes to it are not read)
  const { select, isEqual = Object.is } = options;
  const selectRef = useRef(select);
  selectRef.current = select;
  const onErrorRef = useRef(options.onError);
  onErrorRef.current = options.onError;
  useEffect(() => entry.onWriteError((failure) => onErrorRef.current?.(failure)), [entry]);
  const selected = useSyncExternalStoreWithSelector<DocumentSnapshot, DocumentSnapshot<S>>(
    entry.subscribe,
    entry.getSnapshot,
    entry.getSnapshot,
    (snap) => {
      const pick = selectRef.current;
      return pick && snap.data !== undefined ? { ...snap, data: pick(snap.data as T) } : (snap as DocumentSnapshot<S>);
    },
    (a, b) =>
      a === b ||
      (select !== undefined &&
        a.status === b.status &&
        a.error === b.error &&
        (a.data === undefined || b.data === undefined ? a.data === b.data : isEqual(a.data, b.data))),
  );
  if (options.suspense) {
    if (selected.status === 'loading') {
      entry.ensureActive(); // a suspended component never subscribes, so start loading here
      throw entry.loaded();
    }
    if (selected.status === 'error' && selected.error) throw selected.error;
  }
  return useMemo(() => ({ ...selected, ...actions }), [selected, actions]);
}

/** Options of {@link useSyncEvents}. */
export interface UseSyncEventsOptions {
  /** `full` (default), `diff` or `both`. */
  returnMode?: ReturnMode;
  /** Only events matching these metadata / top-level data values. */
  filter?: EventFilter;
}

/**
 * Subscribes to a topic (or pattern such as `sync.order.*`) while mounted and calls `handler`
 * for each event. The latest handler is always used; changing it does not resubscribe. `T` is
 * the type of the topic's documents, for `event.payload.data` (`useSyncEvents<Order>(…)`, or
 * inferred from an annotated handler `(e: SyncEvent<Order>) => …`); it is not checked at runtime.
 */
export function useSyncEvents<T extends object = DocumentData>(topic: string, handler: (event: SyncEvent<T>) => void, options: UseSyncEventsOptions = {}): void {
  const client = useRealtime();
  const handlerRef = useRef(handler);
  useEffect(() => {
    handlerRef.current = handler;
  });
  const { returnMode, filter } = options;
  const filterKey = JSON.stringify(filter ?? null);
  useEffect(() => {
    const f = JSON.parse(filterKey) as EventFilter | null;
    // The client routes to this subscription exactly its own events, in its own return mode.
    const sub = client.subscribe<T>({ topic, filter: f ?? undefined, returnMode }, (event) =>
      handlerRef.current(event),
    );
    return () => client.unsubscribe(sub);
  }, [client, topic, returnMode, filterKey]);
}
