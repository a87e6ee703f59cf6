/** The React context that carries the client and its document cache. */
import { createContext, useContext } from 'react';
import type { DocumentCache } from '../core/document-cache.js';
import type { RealtimeClient } from '../core/realtime-client.js';

/** What {@link RealtimeProvider} puts in context. */
export interface RealtimeContextValue {
  client: RealtimeClient;
  cache: DocumentCache;
}

/** @internal */
export const RealtimeContext = createContext<RealtimeContextValue | null>(null);

/** @internal The context value; throws a clear error outside a provider (a programming mistake). */
export function useRealtimeContext(): RealtimeContextValue {
  const value = useContext(RealtimeContext);
  if (!value) throw new Error('syncdoc hooks need a <RealtimeProvider> above them in the tree');
  return value;
}
