/**
 * syncdoc/storage: keeps a client's pending writes and the last confirmed state of its cached
 * documents in IndexedDB, so they survive a page reload; in an entry of its own so that apps
 * which do not persist do not ship it.
 * @packageDocumentation
 */
export { indexedDbStorage } from './storage/indexeddb.js';
export type { IndexedDbStorageOptions } from './storage/indexeddb.js';
export type { Storage, StoredDocument, StoredWrite } from './core/storage.js';
