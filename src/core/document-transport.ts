/** What the document cache needs from a connection; `RealtimeClient` provides it, test fakes mimic it. */
import type { SyncError, SyncEvent } from '../protocol/index.js';
import type { RealtimeClient, SubscribeOptions } from './realtime-client.js';

/** The connection a document cache talks through. */
export interface DocumentTransport extends Pick<RealtimeClient, 'status' | 'request' | 'unsubscribe' | 'on'> {
  /** {@link RealtimeClient.subscribe}, for events of any document type (the cache's are untyped). */
  subscribe(options: SubscribeOptions, onEvent?: (event: SyncEvent) => void, onError?: (err: SyncError) => void): string;
}
