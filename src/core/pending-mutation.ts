/**
 * One local write waiting for the relay: how it changes the visible state now (optimistic) and
 * which request it sends, built against the confirmed state at the moment it goes out.
 */
import { type Draft, enablePatches, freeze, produce, produceWithPatches } from 'immer';
import type {
  SyncError} from '../protocol/index.js';
import {
  type ClientMessage,
  type JsonObject,
  type MutationOp,
  type SyncDocument,
  applyMutations,
  generateMutationId,
  mergePatch,
} from '../protocol/index.js';
import { patchesToOps } from './patches-to-ops.js';
import type { WithoutRid } from './requests.js';

enablePatches();

/** The kinds of local write. */
export type MutationKind = 'update' | 'replace' | 'merge' | 'mutate' | 'delete';

/** An Immer recipe over the document's data. */
export type Recipe<T> = (draft: Draft<T>) => void | T;

/** The request a pending write sends, or `null` when it turned out to change nothing. */
export type BuiltRequest = WithoutRid<ClientMessage> | null;

/** One optimistic write. */
export interface PendingMutation {
  readonly mutationId: string;
  readonly kind: MutationKind;
  /** Applies the write on top of `base` for the visible state; throws when it cannot apply. */
  apply(base: JsonObject): JsonObject;
  /** The request to send, against the confirmed state `base` at `revision`. */
  build(base: JsonObject, revision: number): BuiltRequest;
  /** Conflict retries left (for `update`). */
  retriesLeft: number;
  resolve(doc: SyncDocument | undefined): void;
  reject(err: SyncError): void;
}

interface Target {
  service: string;
  id: string;
}

/** Builds the pending write for one call of the document API. */
export function pendingMutation(
  target: Target,
  kind: MutationKind,
  payload: { recipe?: Recipe<unknown>; data?: JsonObject; ops?: MutationOp[]; expectedRevision?: number | undefined },
  retries: number,
  settle: { resolve(doc: SyncDocument | undefined): void; reject(err: SyncError): void },
): PendingMutation {
  const mutationId = generateMutationId();
  const { service, id } = target;
  const withRevision = <M extends object>(m: M, revision: number | undefined): M & { expectedRevision?: number } =>
    revision === undefined ? m : { ...m, expectedRevision: revision };
  // Our own copies, frozen: the caller may keep changing the objects it passed.
  const data = payload.data && (freeze(structuredClone(payload.data), true) as JsonObject);
  const ops = payload.ops && (freeze(structuredClone(payload.ops), true) as MutationOp[]);
  const common = { mutationId, kind, retriesLeft: retries, ...settle };
  switch (kind) {
    case 'update': {
      const recipe = payload.recipe as (draft: Draft<JsonObject>) => void | JsonObject;
      return {
        ...common,
        apply: (base) => produce(base, recipe),
        build(base, revision) {
          const [next, patches] = produceWithPatches(base, recipe);
          if (patches.length === 0) return null;
          const fieldOps = patchesToOps(patches, base, next);
          return fieldOps === undefined
            ? { type: 'replace', service, id, data: next, mutationId, expectedRevision: revision }
            : { type: 'mutate', service, id, ops: fieldOps, mutationId, expectedRevision: revision };
        },
      };
    }
    case 'replace':
      return {
        ...common,
        apply: () => data!,
        build: () => withRevision({ type: 'replace' as const, service, id, data: data!, mutationId }, payload.expectedRevision),
      };
    case 'merge':
      return {
        ...common,
        apply: (base) => freeze(mergePatch(base, data!), true) as JsonObject,
        build: () => withRevision({ type: 'merge' as const, service, id, data: data!, mutationId }, payload.expectedRevision),
      };
    case 'mutate':
      return {
        ...common,
        apply: (base) => freeze(applyMutations(base, ops!), true),
        build: () => withRevision({ type: 'mutate' as const, service, id, ops: ops!, mutationId }, payload.expectedRevision),
      };
    case 'delete':
      return {
        ...common,
        apply: (base) => base,
        build: () => withRevision({ type: 'delete' as const, service, id, mutationId }, payload.expectedRevision),
      };
  }
}
