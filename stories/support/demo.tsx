/**
 * What every demo shares: where the relay is, which document to use, and two independent
 * clients side by side (each its own RealtimeClient and provider), so a viewer sees sync happen.
 */
import { type CSSProperties, type ReactNode, useState } from 'react';
import { SyncDevtools } from '../../src/devtools.js';
import { RealtimeProvider, useConnectionStatus, useRealtime } from '../../src/react.js';

/**
 * The relay: `?relay=` on the page (the e2e tests use it), else STORYBOOK_RELAY_URL (set by
 * `npm start`), else the default port on this machine.
 */
export function relayUrl(): string {
  const fromPage = new URLSearchParams(window.location.search).get('relay');
  return fromPage ?? import.meta.env.STORYBOOK_RELAY_URL ?? 'http://127.0.0.1:8787';
}

/** The document id: `?doc=` on the page, else the demo's own, so two tabs show the same document. */
export function docId(fallback: string): string {
  return new URLSearchParams(window.location.search).get('doc') ?? fallback;
}

export const styles = {
  page: { font: '14px/1.5 system-ui, sans-serif', padding: 16, color: '#0f172a' } satisfies CSSProperties,
  row: { display: 'flex', gap: 16, alignItems: 'flex-start', flexWrap: 'wrap' } satisfies CSSProperties,
  client: { flex: '1 1 360px', border: '1px solid #cbd5e1', borderRadius: 8, padding: 12, background: '#f8fafc' } satisfies CSSProperties,
  button: { marginRight: 6, marginBottom: 6, padding: '4px 10px', cursor: 'pointer' } satisfies CSSProperties,
  badge: { display: 'inline-block', borderRadius: 10, padding: '0 8px', fontSize: 12, background: '#e2e8f0' } satisfies CSSProperties,
};

/** Connection status and an offline switch for the client of the surrounding provider. */
export function ConnectionBar({ label }: { label: string }): ReactNode {
  const client = useRealtime();
  const status = useConnectionStatus();
  const offline = status === 'closed';
  const color = status === 'open' ? '#16a34a' : status === 'closed' ? '#64748b' : '#d97706';
  return (
    <div style={{ marginBottom: 8 }}>
      <b>Client {label}</b>{' '}
      <span style={{ ...styles.badge, background: color, color: 'white' }} data-testid="connection">
        {status}
      </span>{' '}
      <button style={styles.button} onClick={() => (offline ? client.connect() : client.disconnect())}>
        {offline ? 'Go online' : 'Go offline'}
      </button>
    </div>
  );
}

/** Two independent clients of one relay, side by side, each with the devtools panel of `devtools`. */
export function TwoClients({
  title,
  intro,
  devtools,
  children,
}: {
  title: string;
  intro: ReactNode;
  devtools?: { service: string; id: string };
  children: (label: 'A' | 'B') => ReactNode;
}): ReactNode {
  const [url] = useState(relayUrl);
  return (
    <div style={styles.page}>
      <h2 style={{ margin: '0 0 4px' }}>{title}</h2>
      <p style={{ margin: '0 0 12px', color: '#475569' }}>
        {intro} <span style={{ opacity: 0.7 }}>Relay: {url}</span>
      </p>
      <div style={styles.row}>
        {(['A', 'B'] as const).map((label) => (
          <RealtimeProvider key={label} url={url}>
            <section style={styles.client} data-testid={`client-${label}`}>
              <ConnectionBar label={label} />
              {children(label)}
              {devtools && <SyncDevtools service={devtools.service} id={devtools.id} style={{ marginTop: 12 }} />}
            </section>
          </RealtimeProvider>
        ))}
      </div>
    </div>
  );
}

/** Collects one-line messages about what a write did, newest first (for the conflict demo). */
export function useLog(): [string[], (line: string) => void] {
  const [lines, setLines] = useState<string[]>([]);
  return [lines, (line) => setLines((prev) => [line, ...prev].slice(0, 8))];
}
