/**
 * syncdoc/react: hooks over the framework-free engine.
 * @packageDocumentation
 */
export { RealtimeProvider } from './react/provider.js';
export type { RealtimeProviderProps } from './react/provider.js';
export { useRealtime, useConnectionStatus, useConnectionError, useSyncDocument, useSyncEvents } from './react/hooks.js';
export type { UseSyncDocumentOptions, SyncDocumentState, UseSyncEventsOptions } from './react/hooks.js';
export type { DocumentStatus, DocumentSnapshot, WriteFailure } from './core/document-entry.js';
export type { DocumentActions, UpdateOptions } from './core/document-actions.js';
export type { Recipe } from './core/pending-mutation.js';
export type { DocumentCacheOptions } from './core/document-cache.js';
export type { Activity } from './core/activity-log.js';
