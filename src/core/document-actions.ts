/**
 * The write methods of a cached document: each checks its input, changes the visible state at
 * once (optimistic) and resolves with the server's document, or rejects with a `SyncError`
 * after rolling back only its own change.
 */
import type { MergePatch, MutationList, MutationRecord, SyncDocument } from '../protocol/index.js';
import { invalid } from '../protocol/index.js';
import type { DocumentEntry } from './document-entry.js';
import { type MutationKind, type PendingPayload, type Recipe, pendingMutation } from './pending-mutation.js';
import { type WriteKind, attempt, checkWrite } from './sync-client.js';

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
  /** Field operations (record or array form); the record's paths and values are checked against `T` (see {@link MutationRecord}). */
  mutate(mutations: MutationRecord<T> | MutationList, expectedRevision?: number): Promise<SyncDocument<T>>;
  /** Soft delete. */
  delete(expectedRevision?: number): Promise<void>;
}

/** Builds the actions of `entry`; `retries` is the default conflict retry count of `update`. */
export function documentActions<T>(entry: DocumentEntry, retries: number): DocumentActions<T> {
  // Checks the arguments (a throw rejects), then queues the write.
  // A write's promise may be ignored (`onClick={() => doc.update(...)}`): its rollback is shown
  // and logged, so it must not also surface as an unhandled rejection. Awaiting it still rejects.
  const run = (kind: MutationKind, payload: () => PendingPayload): Promise<never> => {
    const done = attempt(() => {
      const p = payload();
      return new Promise((resolve, reject) => entry.enqueue(pendingMutation(entry, kind, p, { resolve: resolve as (doc: unknown) => void, reject })));
    }) as Promise<never>;
    done.catch(() => {});
    return done;
  };
  const write = (kind: WriteKind) => (arg: unknown, expectedRevision?: number) => run(kind, () => checkWrite(kind, arg, expectedRevision));
  return {
    update: (recipe, options) =>
      run('update', () => {
        if (typeof recipe !== 'function') throw invalid('update needs a recipe function (draft) => { ... }');
        const n = options?.retries ?? retries;
        if (!Number.isInteger(n) || n < 0) throw invalid('retries must be a non-negative integer');
        return { recipe: recipe as Recipe<unknown>, retries: n };
      }),
    replace: write('replace'),
    merge: write('merge'),
    mutate: write('mutate'),
    delete: (expectedRevision) => write('delete')(undefined, expectedRevision),
  };
}
