/**
 * Wire messages: discriminated unions on `type`, shared by the client and the relay. Every
 * request carries `rid`, a positive integer the client picks; its answer (`result` or `error`)
 * echoes it. Events carry no subscription id so one serialized frame serves every subscriber.
 */
import type { SyncErrorShape } from './errors.js';
import type { CatchUpResult, ReturnMode, SyncDocument, SyncEvent } from './events.js';
import type { JsonObject } from './json.js';
import type { MutationOp } from './mutations.js';
import type { EventFilter } from './topics.js';

interface Req {
  /** Request id, echoed by the answer. */
  rid: number;
}
interface DocRef extends Req {
  service: string;
  id: string;
}
interface Write extends DocRef {
  /** Client-chosen id of this write; a resend with the same id is applied once. */
  mutationId?: string;
  /** Fail with `conflict` unless the document is at this revision. */
  expectedRevision?: number;
}

/** Create a document; `id` omitted means the relay generates one. */
export interface CreateRequest extends Req {
  type: 'create';
  service: string;
  id?: string;
  data: JsonObject;
  mutationId?: string;
}
/** Read a document. */
export interface GetRequest extends DocRef {
  type: 'get';
}
/** Overwrite a document's data. */
export interface ReplaceRequest extends Write {
  type: 'replace';
  data: JsonObject;
}
/** JSON Merge Patch into a document's data. */
export interface MergeRequest extends Write {
  type: 'merge';
  data: JsonObject;
}
/** Field operations, applied all or nothing. */
export interface MutateRequest extends Write {
  type: 'mutate';
  ops: MutationOp[];
}
/** Soft-delete a document. */
export interface DeleteRequest extends Write {
  type: 'delete';
}
/** Start receiving events of a topic pattern. */
export interface SubscribeRequest extends Req {
  type: 'subscribe';
  /** Client-chosen subscription id (`sub_1`), so a resubscribe after reconnect keeps it. */
  sub: string;
  topic: string;
  filter?: EventFilter;
  returnMode?: ReturnMode;
}
/** Stop a subscription. */
export interface UnsubscribeRequest extends Req {
  type: 'unsubscribe';
  sub: string;
}
/** "What did I miss since revision `since`?" */
export interface CatchUpRequest extends DocRef {
  type: 'catchup';
  since: number;
}
/** Liveness check; answered with an empty result. */
export interface PingRequest extends Req {
  type: 'ping';
}

/** Every message a client may send. */
export type ClientMessage =
  | CreateRequest
  | GetRequest
  | ReplaceRequest
  | MergeRequest
  | MutateRequest
  | DeleteRequest
  | SubscribeRequest
  | UnsubscribeRequest
  | CatchUpRequest
  | PingRequest;

/** The request kinds that write a document. */
export type WriteRequest = CreateRequest | ReplaceRequest | MergeRequest | MutateRequest | DeleteRequest;

/** First frame on every connection. */
export interface WelcomeMessage {
  type: 'welcome';
  /** The relay instance that holds this connection. */
  instance: string;
  /** Protocol version, bumped on incompatible change. */
  protocol: 1;
  /** The relay's limits, so clients refuse what would be refused (or cut) anyway. */
  limits: RelayLimits;
}

/** Limits a relay announces in its welcome. */
export interface RelayLimits {
  /** Largest serialized document, in bytes. */
  maxDocumentBytes: number;
  /** Deepest nesting. */
  maxDepth: number;
  /** Largest frame the relay reads; a bigger one closes the connection. */
  maxFrameBytes: number;
}
/** A successful answer. `result` is a document, `null` (delete, unsubscribe, ping) or a catch-up. */
export interface ResultMessage {
  type: 'result';
  rid: number;
  result: SyncDocument | CatchUpResult | null;
}
/** A failed answer; `rid` is `null` when the frame was too broken to have one. */
export interface ErrorMessage {
  type: 'error';
  rid: number | null;
  error: SyncErrorShape;
}
/** An event for one or more of this connection's subscriptions. */
export interface EventMessage {
  type: 'event';
  event: SyncEvent;
}

/** Every message the relay may send. */
export type ServerMessage = WelcomeMessage | ResultMessage | ErrorMessage | EventMessage;

/** The protocol version this build speaks. */
export const PROTOCOL_VERSION = 1;
