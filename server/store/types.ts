/**
 * The storage contract both drivers (memory, Redis with RedisJSON) implement. Stores own the
 * revision rules, mutation-id dedupe, the per-document change log and event publication, so the
 * relay above them holds no document state.
 */
import type {
  CatchUpResult,
  JsonObject,
  MutationOp,
  SyncDocument,
} from '../../src/protocol/index.js';

/** Options every write takes. */
export interface WriteOptions {
  /** Fail with `conflict` unless the document is at this revision. */
  expectedRevision?: number;
  /** The writer's id for this write; a write with a remembered id returns its first result. */
  mutationId?: string;
  /**
   * Fail with `conflict` unless the document is this incarnation: a write made against a
   * document the store has since lost must not land on the one created again in its place.
   * Checked after a remembered mutation id is replayed, atomically with the write.
   */
  incarnation?: string;
}

/** Options of a catch-up: the incarnation the asker holds (another one is answered with the snapshot). */
export type CatchUpOptions = Pick<WriteOptions, 'incarnation'>;

export type { StoreEvent } from './store-event.js';
import type { StoreEvent } from './store-event.js';

/** Storage for documents. Every method validates nothing: the relay has already checked input. */
export interface Store {
  /** `memory` or `redis`, for logs and health checks. */
  readonly kind: 'memory' | 'redis';
  /** Whether documents survive a restart of the relay. */
  readonly durable: boolean;
  /** For shared stores: this relay's id on them (connection names, published messages). */
  readonly instance?: string;
  /**
   * Creates a document at revision 1, with a new incarnation; `conflict` if the id exists
   * (soft-deleted included).
   */
  create(service: string, id: string, data: JsonObject, opts?: Pick<WriteOptions, 'mutationId'>): Promise<SyncDocument>;
  /** Reads a document; `not_found` if missing or deleted. */
  get(service: string, id: string): Promise<SyncDocument>;
  /** Overwrites the data. */
  replace(service: string, id: string, data: JsonObject, opts?: WriteOptions): Promise<SyncDocument>;
  /** JSON Merge Patch (RFC 7386) into the data. */
  merge(service: string, id: string, patch: JsonObject, opts?: WriteOptions): Promise<SyncDocument>;
  /** Field operations in order, all or nothing (`invalid` if one cannot apply). */
  mutate(service: string, id: string, ops: readonly MutationOp[], opts?: WriteOptions): Promise<SyncDocument>;
  /** Soft delete: the revision is bumped and later reads and writes answer `not_found`. */
  delete(service: string, id: string, opts?: WriteOptions): Promise<void>;
  /**
   * The changes after revision `since`, or a snapshot when the log no longer has them, when
   * `since` is past the current revision, or when `opts.incarnation` is not the document's.
   */
  changesSince(service: string, id: string, since: number, opts?: CatchUpOptions): Promise<CatchUpResult>;
  /**
   * Registers the one listener that receives every committed write, from this relay or (for
   * shared stores) any other, in revision order per document.
   */
  onEvent(listener: (event: StoreEvent) => void): void;
  /**
   * Whether this relay wants events: `true` while it has subscribers (resolves once events
   * flow, so a write committed after that reaches the listener), `false` when its last one
   * left. A shared store then stops receiving everyone's events, after a short grace so that a
   * reconnecting client does not make it churn: a relay that serves only writes gets none.
   */
  listen(wanted: boolean): Promise<void>;
  /**
   * Registers the listener told when events may have been lost (the Redis subscriber
   * connection dropped and came back). The relay then asks its clients to reconnect, which
   * makes them catch up.
   */
  onEventGap(listener: () => void): void;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** Settings common to both drivers. */
export interface StoreSettings {
  /** Writes kept per document for catch-up (at least; up to a quarter more between trims). Default 100. */
  changeLogSize: number;
  /** How long a mutation id is remembered, in seconds. Default 3600. */
  mutationIdTtlSeconds: number;
  /** Largest serialized document, in bytes. */
  maxDocumentBytes: number;
}

/** Defaults for {@link StoreSettings}. */
export const DEFAULT_STORE_SETTINGS: Readonly<StoreSettings> = {
  changeLogSize: 100,
  mutationIdTtlSeconds: 3600,
  maxDocumentBytes: 256 * 1024,
};
