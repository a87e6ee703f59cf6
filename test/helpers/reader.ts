/**
 * A reader of one document through a client's document cache (what `useSyncDocument` does,
 * without React): it subscribes to the cache entry, and records every write failure its
 * `onWriteError` listeners hear, so tests can assert both what the reader shows and what it
 * was told.
 */
import { type DocumentCacheOptions, documentCache } from '../../src/core/document-cache.js';
import type { DocumentEntry, DocumentSnapshot, WriteFailure } from '../../src/core/document-entry.js';
import type { DocumentActions } from '../../src/core/document-actions.js';
import type { Activity } from '../../src/core/activity-log.js';
import type { RealtimeClient } from '../../src/index.js';

/** One subscribed reader of a cached document. */
export interface Reader<T> {
  entry: DocumentEntry;
  actions: DocumentActions<T>;
  /** What the reader shows now. */
  snap(): DocumentSnapshot<T>;
  /** Every failure `onWriteError` reported, in order. */
  failures: WriteFailure[];
  /** The entry's activity log lines of one kind. */
  activity(kind: Activity['kind']): Activity[];
  /** Stops reading. */
  close(): void;
}

/** Opens a reader of `service/id` on `client`'s document cache (made with `options` on first use). */
export function openReader<T>(client: RealtimeClient, service: string, id: string, { create, cache }: { create?: T; cache?: DocumentCacheOptions } = {}): Reader<T> {
  const { entry, actions } = documentCache(client, cache).document<T>(service, id, create as Record<string, unknown> | undefined);
  const failures: WriteFailure[] = [];
  const offErrors = entry.onWriteError((f) => failures.push(f));
  const unsubscribe = entry.subscribe(() => {});
  return {
    entry,
    actions,
    snap: () => entry.getSnapshot() as DocumentSnapshot<T>,
    failures,
    activity: (kind) => entry.activity.getSnapshot().filter((a) => a.kind === kind),
    close: () => {
      unsubscribe();
      offErrors();
    },
  };
}

/** Settles a promise into what it resolved with or the error it rejected with (for assertions). */
export function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
