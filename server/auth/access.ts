/**
 * The one place where rights are decided: every request a connection makes (over the socket
 * today, over HTTP too) passes {@link authorize} before the store is touched, and a refusal is
 * `forbidden` naming the right and the document.
 */
import { type ClientMessage, type EventFilter, SyncError } from '../../src/protocol/index.js';
import type { Permissions, Right } from './principal.js';

/** The documents a subscription can match: all of one service, one document, or every document. */
type Scope = { service?: string; id?: string } | 'nothing';

const OPERATIONS = new Set(['created', 'updated', 'deleted', '*']);

/**
 * What a subscription's topic and filter can match. Document events are `sync.<service>.<op>`;
 * a topic of another shape matches none of them. A filter on `service` or `id` narrows the
 * scope; one whose value is not a string matches nothing, since names are strings.
 */
export function subscriptionScope(topic: string, filter: EventFilter | undefined): Scope {
  const [source, service, op, ...rest] = topic.split('.');
  if (rest.length > 0 || op === undefined || (source !== 'sync' && source !== '*') || !OPERATIONS.has(op)) return 'nothing';
  const scope: { service?: string; id?: string } = {};
  if (service !== '*') scope.service = service;
  if (filter && Object.prototype.hasOwnProperty.call(filter, 'service')) {
    const s = filter.service;
    if (typeof s !== 'string' || (scope.service !== undefined && s !== scope.service)) return 'nothing';
    scope.service = s;
  }
  if (filter && Object.prototype.hasOwnProperty.call(filter, 'id')) {
    const id = filter.id;
    if (typeof id !== 'string') return 'nothing';
    scope.id = id;
  }
  return scope;
}

function where(service: string | undefined, id: string | undefined): string {
  if (service === undefined) return id === undefined ? 'every document' : `document "${id}" of every service`;
  return id === undefined ? `every document of service "${service}"` : `${service}/${id}`;
}

function forbid(right: Right, service: string | undefined, id: string | undefined): SyncError {
  return new SyncError('forbidden', `forbidden: this token has no "${right}" right on ${where(service, id)}`);
}

/** Throws `forbidden` unless `permissions` allow a subscription to `topic` with `filter`. */
export function authorizeSubscription(permissions: Permissions, topic: string, filter: EventFilter | undefined): void {
  const scope = subscriptionScope(topic, filter);
  if (scope === 'nothing') return;
  // (With no service named, a filtered id could be in any service: only '*' covers that.)
  if (!permissions.allows('read', scope.service, scope.id)) {
    const e = forbid('read', scope.service, scope.id);
    throw new SyncError('forbidden', `${e.message} (subscription to ${topic}${filter ? ` with filter ${JSON.stringify(filter)}` : ''})`);
  }
}

/**
 * Throws `forbidden` unless `permissions` allow the request. `create` without an id is checked
 * with the id the relay is about to give it, so the caller passes that id in.
 */
export function authorize(permissions: Permissions, m: ClientMessage, createdId?: string): void {
  switch (m.type) {
    case 'get':
    case 'catchup':
      if (!permissions.allows('read', m.service, m.id)) throw forbid('read', m.service, m.id);
      return;
    case 'create': {
      const id = m.id ?? createdId;
      if (!permissions.allows('write', m.service, id)) throw forbid('write', m.service, id);
      return;
    }
    case 'replace':
    case 'merge':
    case 'mutate':
    case 'delete':
      if (!permissions.allows('write', m.service, m.id)) throw forbid('write', m.service, m.id);
      return;
    case 'subscribe':
      return authorizeSubscription(permissions, m.topic, m.filter);
    case 'unsubscribe':
    case 'ping':
      return;
  }
}
