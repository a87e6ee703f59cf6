/**
 * The in-memory store: the same rules as the Redis driver inside one process. It backs
 * `syncdoc-relay` run without a Redis URL and fast tests; nothing survives a restart.
 */
import {
  type CatchUpResult,
  type ChangeRecord,
  type JsonObject,
  type MutationOp,
  type SyncDocument,
  type SyncEventMetadata,
  type SyncOperation,
  SyncError,
  applyMutations,
  assertSize,
  computeDiff,
  generateIncarnation,
  mergePatch,
} from '../../src/protocol/index.js';
import { catchUpFrom, documentAt } from './replay.js';
import { storeEvent } from './store-event.js';
import { type CatchUpOptions, DEFAULT_STORE_SETTINGS, type Store, type StoreEvent, type StoreSettings, type WriteOptions } from './types.js';

interface Entry {
  service: string;
  id: string;
  revision: number;
  data: JsonObject;
  createdAt: number;
  updatedAt: number;
  /** Made at the create: a store restarted empty makes a new one when the id is created again. */
  incarnation: string;
  deleted: boolean;
  /** Newest last, at least `changeLogSize` (when there were as many writes), at most a quarter more. */
  log: ChangeRecord[];
  /** mutationId -> the revision the write made (0 for a delete), and when the memo expires. */
  mutations: Map<string, { revision: number; expires: number }>;
}

const MAX_REMEMBERED_MUTATIONS = 1000;

/** Creates an in-memory store. */
export function createMemoryStore(settings: Partial<StoreSettings> = {}): Store {
  return new MemoryStore({ ...DEFAULT_STORE_SETTINGS, ...settings });
}

class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly durable = false;
  private readonly docs = new Map<string, Entry>();
  private listener: (event: StoreEvent) => void = () => {};

  constructor(private readonly settings: StoreSettings) {}

  onEvent(listener: (event: StoreEvent) => void): void {
    this.listener = listener;
  }

  async listen(): Promise<void> {
    // One process: events reach the listener whether or not anyone wants them.
  }

  onEventGap(): void {
    // One process: events cannot be lost between the store and the relay.
  }

  async close(): Promise<void> {
    this.docs.clear();
  }

  async get(service: string, id: string): Promise<SyncDocument> {
    const entry = this.live(service, id);
    return this.toDocument(service, id, entry);
  }

  async create(service: string, id: string, data: JsonObject, opts: Pick<WriteOptions, 'mutationId'> = {}): Promise<SyncDocument> {
    const key = `${service}\u0000${id}`;
    const existing = this.docs.get(key);
    if (existing) {
      const replay = this.replay(existing, opts.mutationId);
      if (replay === null) throw usedByDelete(service, id, opts.mutationId);
      if (replay !== undefined) return replay;
      throw new SyncError('conflict', `conflict: document ${service}/${id} already exists`, { revision: existing.revision });
    }
    this.checkSize(data);
    const now = Date.now();
    const entry: Entry = {
      service,
      id,
      revision: 0,
      data: {},
      createdAt: now,
      updatedAt: now,
      incarnation: generateIncarnation(),
      deleted: false,
      log: [],
      mutations: new Map(),
    };
    this.docs.set(key, entry);
    return this.commit(service, id, entry, 'create', data, opts) as SyncDocument;
  }

  async replace(service: string, id: string, data: JsonObject, opts: WriteOptions = {}): Promise<SyncDocument> {
    return this.write(service, id, 'replace', opts, () => data);
  }

  async merge(service: string, id: string, patch: JsonObject, opts: WriteOptions = {}): Promise<SyncDocument> {
    return this.write(service, id, 'merge', opts, (data) => mergePatch(data, patch) as JsonObject);
  }

  async mutate(service: string, id: string, ops: readonly MutationOp[], opts: WriteOptions = {}): Promise<SyncDocument> {
    return this.write(service, id, 'mutate', opts, (data) => applyMutations(data, ops));
  }

  async delete(service: string, id: string, opts: WriteOptions = {}): Promise<void> {
    await this.write(service, id, 'delete', opts, (data) => data);
  }

  async changesSince(service: string, id: string, since: number, opts: CatchUpOptions = {}): Promise<CatchUpResult> {
    const entry = this.docs.get(`${service}\u0000${id}`);
    if (!entry) throw notFound(service, id);
    return catchUpFrom(entry, since, opts.incarnation, () => entry.log.filter((c) => c.revision > since), () => entry.data);
  }

  /** Runs one update of an existing document: replay, checks, then commit. */
  private async write(
    service: string,
    id: string,
    operation: Exclude<SyncOperation, 'create'>,
    opts: WriteOptions,
    change: (data: JsonObject) => JsonObject,
  ): Promise<SyncDocument> {
    const raw = this.docs.get(`${service}\u0000${id}`);
    const replay = raw && this.replay(raw, opts.mutationId);
    // A remembered delete replays as `undefined` (only to a delete), as on Redis.
    if (replay === null && operation !== 'delete') throw usedByDelete(service, id, opts.mutationId);
    if (replay !== undefined) return (replay ?? undefined) as SyncDocument;
    const entry = this.live(service, id);
    if (opts.incarnation !== undefined && opts.incarnation !== entry.incarnation) {
      throw incarnationConflict(service, id, entry.incarnation, opts.incarnation, entry.revision);
    }
    if (opts.expectedRevision !== undefined && opts.expectedRevision !== entry.revision) {
      throw conflict(service, id, opts.expectedRevision, entry.revision);
    }
    const next = change(entry.data);
    if (operation !== 'delete') this.checkSize(next);
    return this.commit(service, id, entry, operation, next, opts) as SyncDocument;
  }

  private commit(
    service: string,
    id: string,
    entry: Entry,
    operation: SyncOperation,
    next: JsonObject,
    opts: WriteOptions,
  ): SyncDocument | null {
    const before = entry.data;
    const now = Math.max(Date.now(), entry.updatedAt);
    entry.revision += 1;
    entry.updatedAt = now;
    entry.data = next;
    if (operation === 'delete') entry.deleted = true;
    let diff: ReturnType<StoreEvent['diff']> | undefined;
    const diffOf = () => (diff ??= operation === 'delete' ? computeDiff(before, {}) : computeDiff(before, next));
    const record: ChangeRecord = { revision: entry.revision, operation, timestamp: now, get diff() { return diffOf(); } };
    if (opts.mutationId) record.mutationId = opts.mutationId;
    entry.log.push(record);
    // Trimmed like the Redis log: back to its size once it is a quarter over (same catch-up answers).
    const size = this.settings.changeLogSize;
    if (entry.log.length > size + Math.floor(size / 4)) entry.log.splice(0, entry.log.length - size);
    const result = operation === 'delete' ? null : this.toDocument(service, id, entry);
    if (opts.mutationId) this.remember(entry, opts.mutationId, operation === 'delete' ? 0 : entry.revision);
    const metadata: SyncEventMetadata = { operation, service, id, revision: entry.revision, timestamp: now, incarnation: entry.incarnation };
    if (opts.mutationId) metadata.mutationId = opts.mutationId;
    this.listener(storeEvent({ metadata, data: next, diff: diffOf }));
    return result;
  }

  private remember(entry: Entry, mutationId: string, revision: number): void {
    entry.mutations.set(mutationId, { revision, expires: Date.now() + this.settings.mutationIdTtlSeconds * 1000 });
    if (entry.mutations.size > MAX_REMEMBERED_MUTATIONS) {
      entry.mutations.delete(entry.mutations.keys().next().value!);
    }
  }

  /**
   * The answer to a remembered write (see replay.ts): the document at the revision it made,
   * `null` for a delete; `undefined` when the id is not remembered.
   */
  private replay(entry: Entry, mutationId: string | undefined): SyncDocument | null | undefined {
    if (!mutationId) return undefined;
    const hit = entry.mutations.get(mutationId);
    if (!hit) return undefined;
    if (hit.expires < Date.now()) {
      entry.mutations.delete(mutationId);
      return undefined;
    }
    return hit.revision === 0 ? null : documentAt(this.toDocument(entry.service, entry.id, entry), entry.log, hit.revision);
  }

  private live(service: string, id: string): Entry {
    const entry = this.docs.get(`${service}\u0000${id}`);
    if (!entry || entry.deleted) throw notFound(service, id);
    return entry;
  }

  private checkSize(data: JsonObject): void {
    assertSize(Buffer.byteLength(JSON.stringify(data)), this.settings);
  }

  private toDocument(service: string, id: string, e: Entry): SyncDocument {
    return { service, id, revision: e.revision, data: e.data, createdAt: e.createdAt, updatedAt: e.updatedAt, incarnation: e.incarnation };
  }
}

/** The 404 every driver answers for a missing or deleted document. */
export function notFound(service: string, id: string): SyncError {
  return new SyncError('not_found', `document ${service}/${id} not found`);
}

/** A write whose mutation id was remembered from a delete: not a resend of that delete. */
export function usedByDelete(service: string, id: string, mutationId: string | undefined): SyncError {
  return new SyncError('invalid', `mutationId ${mutationId ?? ''} was already used by a delete of ${service}/${id}`);
}

/**
 * The 409 every driver answers for a write that insists on an incarnation the document is not
 * (lua/write-begin.lua builds the same message).
 */
export function incarnationConflict(service: string, id: string, current: string, given: string, revision: number): SyncError {
  return new SyncError(
    'conflict',
    `conflict: ${service}/${id} was created again since this write was made (incarnation ${current}, not ${given})`,
    { revision },
  );
}

/** The 409 every driver answers for a stale `expectedRevision`. */
export function conflict(service: string, id: string, expected: number, current: number): SyncError {
  return new SyncError(
    'conflict',
    `conflict: ${service}/${id} is at revision ${current}, not the expected ${expected}`,
    { revision: current },
  );
}
