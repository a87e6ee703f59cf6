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
  /**
   * Fail with `conflict` unless the document is this incarnation (see
   * {@link SyncDocument.incarnation}): a write made against a document the relay has since lost
   * must not land on the one created again in its place.
   */
  incarnation?: string;
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
  /** The revision the asker holds. */
  since: number;
  /**
   * The incarnation the asker holds: when the document is another one, the answer is the
   * snapshot, never the changes of another incarnation.
   */
  incarnation?: string;
}
/**
 * Presents a token: the first frame on every connection (the token never goes in the URL), and
 * again on the open socket to refresh it before it expires. The first is answered with the
 * welcome; a refresh with an {@link AuthInfo} result.
 */
export interface AuthRequest extends Req {
  type: 'auth';
  /** The token; omitted when the client has none (a relay with auth then refuses it). */
  token?: string;
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
  | AuthRequest
  | PingRequest;

/** The request kinds that write a document. */
export type WriteRequest = CreateRequest | ReplaceRequest | MergeRequest | MutateRequest | DeleteRequest;

/** Who the relay took a connection for, from its token. */
export interface AuthInfo {
  /** The token's user (`sub`); `null` on a relay without auth. */
  user: string | null;
  /** When the token expires (ms since the epoch, the relay's clock); `null` if never. */
  expiresAt: number | null;
  /** The same moment as ms from now, so a client with a skewed clock still refreshes in time. */
  expiresIn: number | null;
}

/**
 * The relay's first frame on a connection: at once on a relay without auth, else the answer to
 * a valid first `auth` frame. Nothing but `auth` may be sent before it.
 */
export interface WelcomeMessage extends AuthInfo {
  type: 'welcome';
  /** The relay instance that holds this connection. */
  instance: string;
  /** Protocol version, bumped on incompatible change (see {@link PROTOCOL_VERSION}). */
  protocol: typeof PROTOCOL_VERSION;
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
/**
 * A successful answer. `result` is a document, `null` (delete, subscribe, unsubscribe, ping), a
 * catch-up, or (for a token refresh) {@link AuthInfo}.
 */
export interface ResultMessage {
  type: 'result';
  rid: number;
  result: SyncDocument | CatchUpResult | AuthInfo | null;
}
/**
 * A failed answer; `rid` is `null` when the frame was too broken to have one, or when nothing
 * asked: a token that expired, or (with `sub`) a subscription the relay ended because a
 * refreshed token no longer allows it.
 */
export interface ErrorMessage {
  type: 'error';
  rid: number | null;
  error: SyncErrorShape;
  /** The subscription this error ended. */
  sub?: string;
}
/** An event for one or more of this connection's subscriptions. */
export interface EventMessage {
  type: 'event';
  event: SyncEvent;
}

/** Every message the relay may send. */
export type ServerMessage = WelcomeMessage | ResultMessage | ErrorMessage | EventMessage;

/**
 * The protocol version this build speaks, bumped on incompatible change. 2: the token in the
 * first frame. 3: incarnations (`incarnation` on documents, event metadata and catch-up
 * answers; writes and catch-up may name the one they were made against).
 */
export const PROTOCOL_VERSION = 3;

/**
 * WebSocket close codes the relay uses beyond the standard ones: the token was missing,
 * refused or expired (4401), or the user holds too many connections (4429). A flooding socket
 * gets 1008 (policy violation); a token the relay could not check for now (its verifier is
 * down or too slow) gets 1013 (try again later).
 */
export const CLOSE_CODES = { unauthorized: 4401, tooManyConnections: 4429, policy: 1008, tryAgainLater: 1013 } as const;
