/**
 * The request path: `(who asks, checked request) → result`. Rights are checked first, in
 * {@link authorize}, then the store runs the request. Nothing here knows the transport, so the
 * socket session, the HTTP API and test doubles of the client's connection run the same code.
 */
import { type ClientMessage, type ResultMessage, generateDocId } from '../src/protocol/index.js';
import { authorize } from './auth/access.js';
import type { Caller } from './auth/principal.js';
import type { Store } from './store/types.js';

/** The requests that read or write documents. */
export type DocumentRequest = Extract<ClientMessage, { type: 'create' | 'get' | 'replace' | 'merge' | 'mutate' | 'delete' | 'catchup' }>;

const DOCUMENT_REQUESTS = new Set<ClientMessage['type']>(['create', 'get', 'replace', 'merge', 'mutate', 'delete', 'catchup']);

/** True for the requests {@link runRequest} handles. */
export function isDocumentRequest(m: ClientMessage): m is DocumentRequest {
  return DOCUMENT_REQUESTS.has(m.type);
}

/** Runs one checked document request for `caller`; rejects with `forbidden` or the store's `SyncError`. */
export async function runRequest(store: Store, caller: Caller, m: DocumentRequest): Promise<ResultMessage['result']> {
  const createdId = m.type === 'create' && m.id === undefined ? generateDocId() : undefined;
  authorize(caller.permissions, m, createdId);
  switch (m.type) {
    case 'create':
      return store.create(m.service, m.id ?? createdId!, m.data, m.mutationId ? { mutationId: m.mutationId } : {});
    case 'get':
      return store.get(m.service, m.id);
    // A write's message is its options: expectedRevision, mutationId and incarnation.
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
      return store.changesSince(m.service, m.id, m.since, m);
  }
}
