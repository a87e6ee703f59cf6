/**
 * SyncDevtools: a small panel that shows what the cache knows about one document — connection,
 * confirmed revision, pending local writes, and recent events, answers, catch-ups and rollbacks.
 * Drop it next to a component while developing; it reads the same cache entry as the hooks.
 */
import { type CSSProperties, type ReactNode, useSyncExternalStore } from 'react';
import type { Activity } from '../core/activity-log.js';
import { useConnectionStatus } from './hooks.js';
import { useRealtimeContext } from './context.js';

/** Props of {@link SyncDevtools}. */
export interface SyncDevtoolsProps {
  /** Service of the document to inspect. */
  service: string;
  /** Id of the document to inspect. */
  id: string;
  /** How many recent activity lines to show (default 8). */
  lines?: number;
  /** Extra style for the outer box. */
  style?: CSSProperties;
}

const box: CSSProperties = {
  font: '12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace',
  background: '#0f172a',
  color: '#e2e8f0',
  borderRadius: 6,
  padding: '8px 10px',
  minWidth: 260,
};
const COLORS: Record<string, string> = { event: '#93c5fd', ack: '#86efac', retry: '#fdba74', rollback: '#fca5a5', 'catch-up': '#fcd34d', dropped: '#f87171' };

/** One activity line in words, e.g. `update m_x: conflict at r7, re-running on the latest state`. */
export function describeActivity(a: Activity): string {
  const write = `${a.write} ${a.mutationId}`;
  switch (a.kind) {
    case 'event':
      return `r${a.revision} ${a.operation}${a.mutationId ? ` (${a.mutationId})` : ''}`;
    case 'ack':
      return `${write}${a.revision === undefined ? '' : ` -> r${a.revision}`}`;
    case 'retry':
      if (a.error === 'rate_limited') return `${write}: over the write rate, sending again shortly`;
      if (a.error === 'timeout') return `${write}: no answer in time, sending again (applied once whatever happened)`;
      return `${write}: conflict at r${a.revision ?? '?'}, re-running on the latest state`;
    case 'rollback':
      return `${write}: ${a.error}`;
    case 'dropped':
      return `document dropped: ${a.error}`;
    default:
      if (a.changes !== undefined) return `${a.changes} change(s) after r${a.since}`;
      if (a.error === undefined) return `snapshot at r${a.revision}`;
      return a.revision === undefined ? `failed: ${a.error}` : `diff of r${a.revision} did not apply (${a.error})`;
  }
}

/** The devtools panel for one document. */
export function SyncDevtools({ service, id, lines = 8, style }: SyncDevtoolsProps): ReactNode {
  const { cache } = useRealtimeContext();
  const { entry } = cache.document(service, id);
  const snapshot = useSyncExternalStore(entry.subscribe, entry.getSnapshot, entry.getSnapshot);
  const activity = useSyncExternalStore(entry.activity.subscribe, entry.activity.getSnapshot, entry.activity.getSnapshot);
  const connection = useConnectionStatus();
  const recent = activity.slice(-lines).reverse();
  return (
    <div style={{ ...box, ...style }} data-testid="sync-devtools" aria-label={`syncdoc devtools for ${service}/${id}`}>
      <div style={{ fontWeight: 700, marginBottom: 4 }}>
        syncdoc · {service}/{id}
      </div>
      <div>
        connection <b data-testid="devtools-connection">{connection}</b> · status <b>{snapshot.status}</b>
      </div>
      <div>
        confirmed revision <b data-testid="devtools-revision">{snapshot.revision ?? '–'}</b> · pending{' '}
        <b data-testid="devtools-pending">{snapshot.pending}</b>
        {snapshot.unconfirmed && <span data-testid="devtools-unconfirmed"> · from storage, not yet confirmed</span>}
      </div>
      {entry.pendingWrites.length > 0 && (
        <ol style={{ margin: '4px 0', paddingLeft: 18 }}>
          {entry.pendingWrites.map((p) => (
            <li key={p.mutationId}>
              {p.kind} <span style={{ opacity: 0.6 }}>{p.mutationId}</span>
            </li>
          ))}
        </ol>
      )}
      <div style={{ marginTop: 4, opacity: 0.8 }}>recent</div>
      <ul style={{ listStyle: 'none', margin: 0, padding: 0 }} data-testid="devtools-activity">
        {recent.length === 0 && <li style={{ opacity: 0.6 }}>nothing yet</li>}
        {recent.map((a, i) => (
          <li key={`${a.at}-${i}`} style={{ color: COLORS[a.kind] }}>
            {a.kind}: {describeActivity(a)}
          </li>
        ))}
      </ul>
    </div>
  );
}
