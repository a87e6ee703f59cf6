/**
 * The document requests a relay answers, run against a store. Kept apart from the socket
 * handling so that other transports (and test doubles of the client's connection) run exactly
 * the same code.
 */
import { type ClientMessage, type ResultMessage, generateDocId } from '../src/protocol/index.js';
import type { Store } from './store/types.js';

/** The requests that read or write documents. */
export type DocumentRequest = Extract<ClientMessage, { type: 'create' | 'get' | 'replace' | 'merge' | 'mutate' | 'delete' | 'catchup' }>;

/** True for the requests {@link runDocumentRequest} handles. */
export function isDocumentRequest(m: ClientMessage): m is DocumentRequest {
  return m.type !== 'subscribe' && m.type !== 'unsubscribe' && m.type !== 'ping';
}

/** Runs one checked document request; rejects with the store's `SyncError`. */
export async function runDocumentRequest(store: Store, m: DocumentRequest): Promise<ResultMessage['result']> {
  switch (m.type) {
    case 'create':
      return store.create(m.service, m.id ?? generateDocId(), m.data, m.mutationId ? { mutationId: m.mutationId } : {});
    case 'get':
      return store.get(m.service, m.id);
    case 'replace':
      return store.replace(m.service, m.id, m.data, m);
    case 'merge':
      return store.merge(m.service, m.id, m.data, m);
    case 'mutate':
      return store.mutate(m.service, m.id, m.ops, m);
    case 'delete':
      await store.delete(m.service, m.id, m);
      return null;
    case 'catchup':
      return store.changesSince(m.service, m.id, m.since);
  }
}
