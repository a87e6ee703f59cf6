/**
 * What the client keeps across page reloads, behind a small interface any platform can
 * implement (IndexedDB in browsers: `indexedDbStorage` from `syncdoc/storage`; React Native,
 * tests). Types only: the engine ships no storage code of its own.
 *
 * The engine saves the last confirmed state of each cached document and every pending write
 * (with its mutation id), and removes a write once the relay answered it. After a reload it shows
 * documents from storage at once (flagged unconfirmed) and sends the writes it claimed, once,
 * with their original mutation ids.
 */
import type { JsonObject } from '../protocol/json.js';
import type { MutationOp } from '../protocol/mutations.js';

/** A document's last confirmed state, as saved. */
export interface StoredDocument {
  service: string;
  id: string;
  /** The confirmed revision. */
  revision: number;
  /** The incarnation the revision belongs to (see `SyncDocument.incarnation`). */
  incarnation?: string;
  /** The confirmed data (without pending writes). */
  data: JsonObject;
  /** When it was saved (ms since the epoch). */
  savedAt: number;
}

/**
 * A pending write, as saved: what goes on the wire, so it can be sent after a reload exactly as
 * it would have been. An `update` is saved as the `mutate` (or `replace`) it amounts to.
 */
export interface StoredWrite {
  /** The write's id on the wire: the relay applies a write with a known id once. */
  mutationId: string;
  service: string;
  id: string;
  /** The wire operation. */
  kind: 'replace' | 'merge' | 'mutate' | 'delete';
  /** For `replace` (the new data) and `merge` (the patch). */
  data?: JsonObject;
  /** For `mutate`. */
  ops?: MutationOp[];
  /** The revision the write insists on, when its caller gave one. */
  expectedRevision?: number;
  /** The incarnation it was made on: a write never lands on a document created again since. */
  incarnation?: string;
  /** The confirmed revision it was made on (for the devtools panel and conflict reports). */
  baseRevision: number;
  /** Order of the writes: saved writes are sent in `seq` order. */
  seq: number;
}

/**
 * Where a client keeps documents and pending writes across reloads. Every method may reject
 * (quota, private mode, a closed database): the client then goes on in memory and warns once.
 */
export interface Storage {
  /** The saved state of one document, if any. */
  loadDocument(service: string, id: string): Promise<StoredDocument | undefined>;
  /** Saves a document's confirmed state (replacing what was saved). */
  saveDocument(doc: StoredDocument): Promise<void>;
  /** Forgets a document (it was deleted, or is gone from the relay). */
  removeDocument(service: string, id: string): Promise<void>;
  /** Saves a pending write (this client sends it). */
  saveWrite(write: StoredWrite): Promise<void>;
  /** Forgets a write the relay answered (applied or refused). */
  removeWrite(mutationId: string): Promise<void>;
  /**
   * The saved writes this client is to send, in `seq` order: those of an earlier page that is
   * gone (a reload, a closed tab). A write another live tab still owns is never returned, so
   * two tabs on one storage never send a write twice; a write returned is owned by this client
   * from then on.
   */
  claimWrites(): Promise<StoredWrite[]>;
  /** Releases what the storage holds open (databases, locks). */
  close?(): void;
}
