/**
 * Checks of frames from the relay. The client does not act on what it cannot use: a frame of
 * the wrong shape is dropped and reported as an `internal` error, and a malformed answer fails
 * its request, instead of breaking later, deep inside a document cache.
 */
import { isPlainObject as obj } from './json.js';
import type { ServerMessage } from './messages.js';

type Obj = Record<string, unknown>;
const str = (v: unknown) => typeof v == 'string';
const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const nullOr = (v: unknown, check: (v: unknown) => boolean) => v === null || check(v);
const num = (v: unknown) => Number.isFinite(v);
const isAuthInfo = (a: Obj) => nullOr(a.user, str) && nullOr(a.expiresAt, num) && nullOr(a.expiresIn, num);
const isDiff = (d: unknown) => obj(d) && obj(d.added) && obj(d.removed) && obj(d.changed);
const isEvent = (e: unknown, md?: Obj) =>
  obj(e) &&
  str(e.topic) &&
  obj((md = e.metadata as Obj)) &&
  str(md.operation) &&
  str(md.service) &&
  str(md.id) &&
  count(md.revision) &&
  str(md.incarnation) &&
  obj(e.payload) &&
  (e.payload.data === undefined || obj(e.payload.data)) &&
  (e.payload.diff === undefined || isDiff(e.payload.diff));

/** Whether a parsed frame from the relay is a well-formed {@link ServerMessage}. */
export function isServerMessage(m: unknown): m is ServerMessage {
  if (!obj(m)) return false;
  const err = m.error;
  switch (m.type) {
    case 'welcome':
      return obj(m.limits) && isAuthInfo(m);
    case 'result':
      return count(m.rid);
    case 'error':
      return nullOr(m.rid, count) && obj(err) && str(err.code) && str(err.message) && (m.sub === undefined || str(m.sub));
    case 'event':
      return isEvent(m.event);
  }
  return false;
}

/** Whether `r` has the shape of the answer to a request of `type`. */
export function isResultOf(type: string, r: unknown): boolean {
  if (/^(create|get|replace|merge|mutate)$/.test(type)) {
    return obj(r) && str(r.service) && str(r.id) && count(r.revision) && str(r.incarnation) && obj(r.data);
  }
  if (type == 'catchup') {
    return obj(r) && count(r.revision) && str(r.incarnation) && (Array.isArray(r.changes) ? r.changes.every((c) => obj(c) && count(c.revision) && isDiff(c.diff)) : obj(r.snapshot));
  }
  if (type == 'auth') return obj(r) && isAuthInfo(r);
  return r === null;
}
