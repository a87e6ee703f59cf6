/**
 * One committed write as the store hands it to the relay. Everything but the small metadata is
 * produced on first use and kept: a relay whose subscribers want only data never computes a
 * diff, and data that arrived as JSON text is spliced into frames without being parsed.
 */
import { type JsonObject, type SyncDiff, type SyncEventMetadata } from '../../src/protocol/index.js';

/** A committed write. */
export interface StoreEvent {
  /** Who wrote what, as subscribers receive it. */
  readonly metadata: SyncEventMetadata;
  /** `metadata` as JSON text. */
  metadataJson(): string;
  /** The document's data after the write (for `delete`: its last data). */
  data(): JsonObject;
  /** `data()` as JSON text. */
  dataJson(): string;
  /** What the write changed. */
  diff(): SyncDiff;
  /** `diff()` as JSON text. */
  diffJson(): string;
}

/** Where the parts of an event come from: each either given or made on demand. */
export interface EventSource {
  /** The metadata, or (with `metadataJson`) left out to be parsed from it on first use. */
  metadata?: SyncEventMetadata;
  metadataJson?: string;
  data?: JsonObject;
  dataJson?: string;
  diff: () => SyncDiff;
}

/** Builds a {@link StoreEvent} that computes each part once, when first asked. */
export function storeEvent(source: EventSource): StoreEvent {
  let metadataJson = source.metadataJson;
  let metadata = source.metadata;
  let data = source.data;
  let dataJson = source.dataJson;
  let diff: SyncDiff | undefined;
  let diffJson: string | undefined;
  const diffOnce = () => (diff ??= source.diff());
  return {
    // Parsed on first use: a relay with no subscriber never reads it.
    get metadata() {
      return (metadata ??= JSON.parse(metadataJson!) as SyncEventMetadata);
    },
    metadataJson: () => (metadataJson ??= JSON.stringify(metadata)),
    data: () => (data ??= JSON.parse(dataJson!) as JsonObject),
    dataJson: () => (dataJson ??= JSON.stringify(data)),
    diff: diffOnce,
    diffJson: () => (diffJson ??= JSON.stringify(diffOnce())),
  };
}
