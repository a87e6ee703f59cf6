/**
 * syncdoc: real-time JSON documents with revisions, diffs and optimistic concurrency.
 * @packageDocumentation
 */
export { RealtimeClient } from './core/realtime-client.js';
export type { RealtimeClientOptions, SubscribeOptions, RealtimeEventName, RealtimeEventPayload } from './core/realtime-client.js';
export { SyncClient } from './core/sync-client.js';
export type { DocumentData } from './core/sync-client.js';
export type { ConnectionStatus, WebSocketClass } from './core/connection.js';
export type { Unsubscribe } from './core/emitter.js';
export { SyncError, isSyncError } from './protocol/errors.js';
export type { SyncErrorCode, SyncErrorShape } from './protocol/errors.js';
export { increment, remove, append } from './protocol/mutations.js';
export type { MutationOp, MutationList, MutationRecord, MutationHelper } from './protocol/mutations.js';
export { applyDiff, computeDiff } from './protocol/diff.js';
export type { SyncDiff } from './protocol/diff.js';
export { parsePath, formatPath } from './protocol/paths.js';
export { mergePatch } from './protocol/merge.js';
export type { MergePatch } from './protocol/merge.js';
export type { SyncDocument, SyncEvent, SyncEventMetadata, SyncOperation, ReturnMode, CatchUpResult, ChangeRecord } from './protocol/events.js';
export type { EventFilter } from './protocol/topics.js';
export type { JsonValue, JsonObject, JsonPrimitive } from './protocol/json.js';
