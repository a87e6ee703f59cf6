/**
 * The write methods of a cached document: each checks its input, changes the visible state at
 * once (optimistic) and resolves with the server's document, or rejects with a `SyncError`
 * after rolling back only its own change.
 */
import {
  DEFAULT_LIMITS,
  type MergePatch,
  type JsonObject,
  type MutationList,
  type MutationRecord,
  type SyncDocument,
  SyncError,
  assertDocumentData,
  invalid,
  normalizeMutations,
} from '../protocol/index.js';
import type { DocumentEntry } from './document-entry.js';
import { type MutationKind, type Recipe, pendingMutation } from './pending-mutation.js';

/** Options of `update`. */
export interface UpdateOptions {
  /** How often to re-run the recipe on the latest state after a conflict (default: the cache's, 3). */
  retries?: number;
}

/** Write methods bound to one document. */
export interface DocumentActions<T> {
  /** Runs an Immer recipe; its changes are sent as field operations against the base revision, retried on conflict. */
  update(recipe: Recipe<T>, options?: UpdateOptions): Promise<SyncDocument<T>>;
  /** Overwrites the data. */
  replace(data: T, expectedRevision?: number): Promise<SyncDocument<T>>;
  /** JSON Merge Patch. */
  merge(partial: MergePatch<T>, expectedRevision?: number): Promise<SyncDocument<T>>;
  /** Field operations (record or array form). */
  mutate(mutations: MutationRecord | MutationList, expectedRevision?: number): Promise<SyncDocument<T>>;
  /** Soft delete. */
  delete(expectedRevision?: number): Promise<void>;
}

function checkRevision(r: unknown): number | undefined {
  if (r === undefined) return undefined;
  if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 0) throw invalid('expectedRevision must be a non-negative integer');
  return r;
}

/** Builds the actions of `entry`; `retries` is the default conflict retry count of `update`. */
export function documentActions<T>(entry: DocumentEntry, retries: number): DocumentActions<T> {
  const run = <R>(
    kind: MutationKind,
    payload: () => Parameters<typeof pendingMutation>[2],
    tries = 0,
  ): Promise<R> => {
    let p: Parameters<typeof pendingMutation>[2];
    try {
      p = payload();
    } catch (err) {
      return Promise.reject(err instanceof SyncError ? err : invalid(String(err)));
    }
    return new Promise<R>((resolve, reject) => {
      entry.enqueue(
        pendingMutation(entry, kind, p, tries, {
          resolve: (doc) => resolve(doc as R),
          reject,
        }),
      );
    });
  };
  return {
    update: (recipe, options) => {
      if (typeof recipe !== 'function') return Promise.reject(invalid('update needs a recipe function (draft) => { ... }'));
      const n = options?.retries ?? retries;
      if (!Number.isInteger(n) || n < 0) return Promise.reject(invalid('retries must be a non-negative integer'));
      return run('update', () => ({ recipe: recipe as Recipe<unknown> }), n);
    },
    replace: (data, expectedRevision) =>
      run('replace', () => {
        assertDocumentData(data, DEFAULT_LIMITS, 'data');
        return { data: data as JsonObject, expectedRevision: checkRevision(expectedRevision) };
      }),
    merge: (partial, expectedRevision) =>
      run('merge', () => {
        assertDocumentData(partial, DEFAULT_LIMITS, 'partial');
        return { data: partial as JsonObject, expectedRevision: checkRevision(expectedRevision) };
      }),
    mutate: (mutations, expectedRevision) =>
      run('mutate', () => ({ ops: normalizeMutations(mutations), expectedRevision: checkRevision(expectedRevision) })),
    delete: (expectedRevision) => run<void>('delete', () => ({ expectedRevision: checkRevision(expectedRevision) })),
  };
}
