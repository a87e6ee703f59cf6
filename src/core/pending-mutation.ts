/**
 * One local write waiting for the relay: how it changes the visible state now (optimistic) and
 * which request it sends, built against the confirmed state at the moment it goes out.
 */
import { type Draft, enablePatches, produce, produceWithPatches } from 'immer';
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
import { freezeDeep } from '../protocol/tree.js';
import { patchesToOps } from './patches-to-ops.js';
import type { WithoutRid } from './connection.js';

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
  /**
   * The request to send, against the confirmed state `base` at `revision` of `incarnation` (the
   * relay refuses it on a document created again since).
   */
  build(base: JsonObject, revision: number, incarnation?: string): BuiltRequest;
  /**
   * The incarnation it insists on: the one it was saved on (restored from storage), else the
   * one it was last built on; none before that.
   */
  readonly incarnation: string | undefined;
  /** Conflict retries left (for `update`). */
  retriesLeft: number;
  /** Times it was sent again after `timeout` (its outcome unknown). */
  resends: number;
  resolve(doc: SyncDocument | undefined): void;
  reject(err: SyncError): void;
}

interface Target {
  service: string;
  id: string;
}

/** What a call of the document API gives its pending write, checked already. */
export interface PendingPayload {
  recipe?: Recipe<unknown>;
  /** Conflict retries (for `update`). */
  retries?: number;
  data?: JsonObject;
  ops?: MutationOp[];
  expectedRevision?: number;
  /** A write saved by an earlier page: its id, kept so the relay applies it once. */
  mutationId?: string;
  /** ...and the incarnation it was made on, which it insists on. */
  incarnation?: string | undefined;
}

/** Builds the pending write for one call of the document API. */
export function pendingMutation(
  target: Target,
  kind: MutationKind,
  payload: PendingPayload,
  settle: { resolve(doc: SyncDocument | undefined): void; reject(err: SyncError): void },
): PendingMutation {
  const mutationId = payload.mutationId ?? generateMutationId();
  const { service, id } = target;
  const recipe = payload.recipe as (draft: Draft<JsonObject>) => void | JsonObject;
  // Our own copies, frozen: the caller may keep changing the objects it passed.
  const data = payload.data && (freezeDeep(structuredClone(payload.data)) as JsonObject);
  const ops = payload.ops && (freezeDeep(structuredClone(payload.ops)) as MutationOp[]);
  // (JSON leaves out the fields that are undefined)
  let incarnation: string | undefined;
  const request = (type: MutationKind, body: { data?: JsonObject; ops?: MutationOp[] }, expectedRevision: number | undefined) =>
    ({ type, service, id, ...body, mutationId, expectedRevision, incarnation }) as WithoutRid<ClientMessage>;
  return {
    mutationId,
    kind,
    retriesLeft: payload.retries ?? 0,
    resends: 0,
    ...settle,
    get incarnation() {
      return payload.incarnation ?? incarnation;
    },
    apply: (base) =>
      kind === 'update'
        ? produce(base, recipe)
        : kind === 'replace'
          ? data!
          : kind === 'merge'
            ? (freezeDeep(mergePatch(base, data!)) as JsonObject)
            : kind === 'mutate'
              ? freezeDeep(applyMutations(base, ops!))
              : base,
    build(base, revision, inc) {
      incarnation = payload.incarnation ?? inc;
      if (kind !== 'update') return request(kind, { data, ops }, payload.expectedRevision);
      // An update is sent against the revision it was computed on, as field operations if it can.
      const [next, patches] = produceWithPatches(base, recipe);
      if (patches.length === 0) return null;
      const fieldOps = patchesToOps(patches, base, next);
      return fieldOps ? request('mutate', { ops: fieldOps }, revision) : request('replace', { data: next }, revision);
    },
  };
}
