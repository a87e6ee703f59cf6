/** Documents and the events their writes publish. */
import type { SyncDiff } from './diff.js';

/** A stored document as every write and `get` resolve it. */
export interface SyncDocument<T = Record<string, unknown>> {
  /** Service namespace (`session`, `order`). */
  service: string;
  /** Document id within the service. */
  id: string;
  /** Starts at 1; every successful write adds 1. */
  revision: number;
  /** The document's payload. */
  data: T;
  /** When the document was created (ms since the epoch, the store's clock). */
  createdAt: number;
  /** When the document was last written (ms since the epoch, the store's clock). */
  updatedAt: number;
  /**
   * Which creation of `service/id` this is: a random id made at every create. A document the
   * relay lost (a store restarted or flushed) and someone created again starts at revision 1
   * again, so revisions alone cannot tell it from the old one; its incarnation differs. A
   * document written before incarnations existed reads as `c` + its `createdAt`.
   */
  incarnation: string;
}

/** The write that produced an event. */
export type SyncOperation = 'create' | 'replace' | 'merge' | 'mutate' | 'delete';

/** What an event says about its write. */
export interface SyncEventMetadata {
  /** The write's kind. */
  operation: SyncOperation;
  /** Service of the written document. */
  service: string;
  /** Id of the written document. */
  id: string;
  /** Revision the write produced. */
  revision: number;
  /** When the write happened (ms since the epoch, the store's clock). */
  timestamp: number;
  /** The incarnation of the written document (see {@link SyncDocument.incarnation}). */
  incarnation: string;
  /** The id the writer gave the write, so it can recognize its own echo. */
  mutationId?: string;
}

/**
 * One event, as a subscriber receives it. `T` is the type of the documents on its topic
 * (`useSyncEvents<Order>('sync.order.*', …)`); it is not checked at runtime.
 */
export interface SyncEvent<T = Record<string, unknown>> {
  /** `sync.<service>.created | updated | deleted`. */
  topic: string;
  /** Always `sync` for document events. */
  source: 'sync';
  /** What was written. */
  metadata: SyncEventMetadata;
  /** `data` in `full` and `both` modes, `diff` in `diff` and `both` modes. */
  payload: { data?: T; diff?: SyncDiff };
}

/** What a subscription receives in `payload`: the document, the diff, or both. */
export type ReturnMode = 'full' | 'diff' | 'both';

/** One past write, as catch-up returns it. */
export interface ChangeRecord {
  /** Revision the write produced. */
  revision: number;
  /** The write's kind. */
  operation: SyncOperation;
  /** What the write changed. */
  diff: SyncDiff;
  /** When the write happened. */
  timestamp: number;
  /** The writer's id for the write. */
  mutationId?: string;
}

/**
 * The answer to "what did I miss since revision r": the missed changes in order when the store
 * still has them, else the current snapshot. A snapshot also answers when the asker's document
 * is another incarnation, or is ahead of the stored one (`since` past its revision): its changes
 * would not apply to what the asker holds.
 */
export type CatchUpResult = CatchUpChanges | CatchUpSnapshot;

/** A catch-up answered with the missed changes. */
export interface CatchUpChanges {
  /** The document's current revision. */
  revision: number;
  /** Whether the document is (soft-)deleted. */
  deleted: boolean;
  /** The document's incarnation: the one the changes belong to. */
  incarnation: string;
  /** Every change after `since`, oldest first (none when `since` is the current revision). */
  changes: ChangeRecord[];
}

/** A catch-up answered with the whole current data. */
export interface CatchUpSnapshot {
  /** The document's current revision. */
  revision: number;
  /** Whether the document is (soft-)deleted; its last data is the snapshot then. */
  deleted: boolean;
  /** The document's incarnation. */
  incarnation: string;
  /** The document's data at `revision`. */
  snapshot: Record<string, unknown>;
}

/** The topic a write publishes to. */
export function topicFor(service: string, operation: SyncOperation): string {
  const kind = operation === 'create' ? 'created' : operation === 'delete' ? 'deleted' : 'updated';
  return `sync.${service}.${kind}`;
}
