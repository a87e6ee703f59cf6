/**
 * Runtime checks of incoming client frames. Nothing from the socket is trusted: each field is
 * checked for type and range, and a bad frame becomes a typed `invalid` error with the frame's
 * `rid` when it had a usable one.
 */
import { SyncError, invalid } from './errors.js';
import { type DocumentLimits, assertDocumentData, describe, isPlainObject } from './json.js';
import type { ClientMessage } from './messages.js';
import { checkMutationOp } from './mutations.js';
import { assertDocId, assertIncarnation, assertMutationId, assertRevision, assertService } from './names.js';
import { assertFilter, assertTopic } from './topics.js';

/** A frame that could not be accepted, with the `rid` to answer to (or `null`). */
export class FrameError extends Error {
  constructor(
    readonly rid: number | null,
    readonly error: SyncError,
  ) {
    super(error.message);
  }
}

const MAX_OPS = 1000;
/** Longer than any JWT a relay needs to read (its grants included). */
const MAX_TOKEN_CHARS = 16 * 1024;
const SUB_RE = /^[A-Za-z0-9_-]{1,64}$/;

function isRid(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function revision(v: unknown, name: string): number {
  assertRevision(v, name);
  return v;
}

/**
 * Parses and checks one text frame. Throws {@link FrameError} for anything malformed. Depth is
 * checked here; the size of the resulting document is checked by the store, which alone knows
 * it after a merge or mutate.
 */
export function parseClientMessage(text: string, limits: DocumentLimits): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new FrameError(null, invalid('frame is not valid JSON'));
  }
  if (!isPlainObject(raw)) throw new FrameError(null, invalid(`frame must be a JSON object, got ${describe(raw)}`));
  const rid = raw.rid;
  if (!isRid(rid)) throw new FrameError(null, invalid('frame needs "rid", a positive integer'));
  try {
    return checkFields(raw as Record<string, unknown>, rid, limits);
  } catch (err) {
    throw new FrameError(rid, err instanceof SyncError ? err : invalid(String(err)));
  }
}

function checkFields(m: Record<string, unknown>, rid: number, limits: DocumentLimits): ClientMessage {
  const incarnation = () => {
    assertIncarnation(m.incarnation);
    return m.incarnation;
  };
  const writeExtras = () => {
    const out: { mutationId?: string; expectedRevision?: number; incarnation?: string } = {};
    if (m.mutationId !== undefined) {
      assertMutationId(m.mutationId);
      out.mutationId = m.mutationId;
    }
    if (m.expectedRevision !== undefined) out.expectedRevision = revision(m.expectedRevision, 'expectedRevision');
    if (m.incarnation !== undefined) out.incarnation = incarnation();
    return out;
  };
  const docRef = () => {
    assertService(m.service);
    assertDocId(m.id);
    return { rid, service: m.service, id: m.id };
  };
  const data = (what: string) => {
    assertDocumentData(m.data, limits, what);
    return m.data;
  };
  switch (m.type) {
    case 'create': {
      assertService(m.service);
      if (m.id !== undefined) assertDocId(m.id);
      const extras = writeExtras();
      const msg: ClientMessage = { type: 'create', rid, service: m.service, data: data('data') };
      if (m.id !== undefined) msg.id = m.id as string;
      if (extras.mutationId) msg.mutationId = extras.mutationId;
      return msg;
    }
    case 'get':
      return { type: 'get', ...docRef() };
    case 'replace':
      return { type: 'replace', ...docRef(), ...writeExtras(), data: data('data') };
    case 'merge':
      return { type: 'merge', ...docRef(), ...writeExtras(), data: data('partial') };
    case 'mutate': {
      const ref = docRef();
      if (!Array.isArray(m.ops) || m.ops.length === 0) throw invalid('ops must be a non-empty array');
      if (m.ops.length > MAX_OPS) throw invalid(`ops has more than ${MAX_OPS} operations`);
      const ops = m.ops.map((op: unknown, i: number) => checkMutationOp(op, limits.maxDepth, `ops[${i}]`));
      return { type: 'mutate', ...ref, ...writeExtras(), ops };
    }
    case 'delete':
      return { type: 'delete', ...docRef(), ...writeExtras() };
    case 'subscribe': {
      if (typeof m.sub !== 'string' || !SUB_RE.test(m.sub)) throw invalid(`sub must match ${SUB_RE.source}`);
      assertTopic(m.topic);
      const msg: ClientMessage = { type: 'subscribe', rid, sub: m.sub, topic: m.topic };
      if (m.filter !== undefined) {
        assertFilter(m.filter);
        msg.filter = m.filter;
      }
      if (m.returnMode !== undefined) {
        if (m.returnMode !== 'full' && m.returnMode !== 'diff' && m.returnMode !== 'both') {
          throw invalid('returnMode must be "full", "diff" or "both"');
        }
        msg.returnMode = m.returnMode;
      }
      return msg;
    }
    case 'unsubscribe':
      if (typeof m.sub !== 'string' || !SUB_RE.test(m.sub)) throw invalid(`sub must match ${SUB_RE.source}`);
      return { type: 'unsubscribe', rid, sub: m.sub };
    case 'catchup': {
      const msg: ClientMessage = { type: 'catchup', ...docRef(), since: revision(m.since, 'since') };
      if (m.incarnation !== undefined) msg.incarnation = incarnation();
      return msg;
    }
    case 'auth': {
      if (m.token === undefined || m.token === null) return { type: 'auth', rid };
      if (typeof m.token !== 'string' || m.token.length === 0 || m.token.length > MAX_TOKEN_CHARS) {
        throw invalid(`token must be a string of 1 to ${MAX_TOKEN_CHARS} characters`);
      }
      return { type: 'auth', rid, token: m.token };
    }
    case 'ping':
      return { type: 'ping', rid };
    default:
      throw invalid(`unknown message type ${JSON.stringify(m.type) ?? String(m.type)}`);
  }
}
