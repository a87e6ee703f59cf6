/** What the document cache needs from a connection; `RealtimeClient` provides it, test fakes mimic it. */
import type { RealtimeClient } from './realtime-client.js';

/** The connection a document cache talks through. */
export type DocumentTransport = Pick<RealtimeClient, 'status' | 'request' | 'subscribe' | 'unsubscribe' | 'on'>;
