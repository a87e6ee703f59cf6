/**
 * `realtime.sync`: the seed's Sync Client. Every argument is checked here, before anything is
 * sent, so mistakes fail fast with a `SyncError` that names the bad field.
 */
import {
  type JsonObject,
  type MergePatch,
  type MutationList,
  type MutationOp,
  type MutationRecord,
  type SyncDocument,
  DEFAULT_LIMITS,
  asSyncError,
  assertDocId,
  assertDocumentData,
  assertRevision,
  assertService,
  generateDocId,
  generateMutationId,
  normalizeMutations,
} from '../protocol/index.js';
import type { WithoutRid } from './connection.js';
import type { ClientMessage, ResultMessage } from '../protocol/index.js';

/** Sends one request (supplied by the client). */
export type Send = (message: WithoutRid<ClientMessage>) => Promise<ResultMessage['result']>;

/**
 * The default document type: any JSON object, its fields unchecked. A document type of your own
 * may be any object type, an `interface` as well as a type alias (`T extends object`); its
 * fields must be JSON, which every write checks at runtime.
 */
export type DocumentData = Record<string, unknown>;

/** The writes to an existing document. */
export type WriteKind = 'replace' | 'merge' | 'mutate' | 'delete';

/** The request fields a write's arguments make, once checked. */
export interface WriteFields {
  data?: JsonObject;
  ops?: MutationOp[];
  expectedRevision?: number;
}

/**
 * Checks the arguments of a write (`arg`: the data of `create` or `replace`, the partial of `merge`, the
 * mutations of `mutate`, nothing for `delete`) and returns the request fields they make.
 */
export function checkWrite(kind: WriteKind | 'create', arg: unknown, expectedRevision: unknown): WriteFields {
  const fields: WriteFields = {};
  if (kind === 'mutate') fields.ops = normalizeMutations(arg);
  else if (kind !== 'delete') {
    assertDocumentData(arg, DEFAULT_LIMITS, kind === 'merge' ? 'partial' : 'data');
    fields.data = arg;
  }
  if (expectedRevision !== undefined) {
    assertRevision(expectedRevision, 'expectedRevision');
    fields.expectedRevision = expectedRevision;
  }
  return fields;
}

/** Runs `fn` and turns a synchronous validation throw into a rejected promise. */
export function attempt<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(asSyncError(err, 'invalid'));
  }
}

/** Create, read, update and delete documents with revision tracking. */
export class SyncClient {
  readonly #send: Send;

  /** @internal */
  constructor(send: Send) {
    this.#send = send;
  }

  /**
   * Creates a document. Without `id`, one is generated (`doc_` + 20 random characters) on the
   * client, so a create resent after a reconnect cannot make a second document.
   */
  create<T extends object = DocumentData>(service: string, data: T, id?: string): Promise<SyncDocument<T>> {
    // (only a missing id is generated: any other is checked like every id)
    return this.#write('create', service, id === undefined ? generateDocId() : id, data, undefined) as Promise<SyncDocument<T>>;
  }

  /** Reads a document; rejects with `not_found` when it is missing or deleted. */
  get<T extends object = DocumentData>(service: string, id: string): Promise<SyncDocument<T>> {
    return attempt(() => {
      assertService(service);
      assertDocId(id);
      return this.#send({ type: 'get', service, id }) as Promise<SyncDocument<T>>;
    });
  }

  /** Overwrites the document's data. With `expectedRevision`, fails with `conflict` if the document moved on. */
  replace<T extends object = DocumentData>(service: string, id: string, data: T, expectedRevision?: number): Promise<SyncDocument<T>> {
    return this.#write('replace', service, id, data, expectedRevision) as Promise<SyncDocument<T>>;
  }

  /**
   * Deep-merges `partial` (JSON Merge Patch: `null` removes a key, arrays replace). With a type,
   * `merge<Session>(…)`, the patch is checked against it; `T` is never inferred from the patch.
   */
  merge<T extends object = DocumentData>(service: string, id: string, partial: NoInfer<MergePatch<T>>, expectedRevision?: number): Promise<SyncDocument<T>> {
    return this.#write('merge', service, id, partial, expectedRevision) as Promise<SyncDocument<T>>;
  }

  /**
   * Applies field operations in one revision, all or nothing: a record `{ path: value }` whose
   * values may be `increment(n)`, `remove()` or `append(...items)`, or a list of `{ op, path, value }`.
   * With a type, `mutate<Session>(…)`, the record's paths and values are checked against it (see
   * {@link MutationRecord}); without one, any record goes. `T` is never inferred from the record.
   */
  mutate<T extends object = DocumentData>(
    service: string,
    id: string,
    mutations: NoInfer<MutationRecord<T>> | MutationList,
    expectedRevision?: number,
  ): Promise<SyncDocument<T>> {
    return this.#write('mutate', service, id, mutations, expectedRevision) as Promise<SyncDocument<T>>;
  }

  /** Soft-deletes a document: later reads and writes answer `not_found`. */
  async delete(service: string, id: string, expectedRevision?: number): Promise<void> {
    await this.#write('delete', service, id, undefined, expectedRevision);
  }

  #write(type: WriteKind | 'create', service: string, id: string, arg: unknown, expectedRevision: number | undefined): Promise<unknown> {
    return attempt(() => {
      assertService(service);
      assertDocId(id);
      return this.#send({ type, service, id, mutationId: generateMutationId(), ...checkWrite(type, arg, expectedRevision) } as WithoutRid<ClientMessage>);
    });
  }
}
