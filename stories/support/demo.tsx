/**
 * What every demo shares: where the relay and its token endpoint are, which document to use,
 * and independent clients side by side (each its own RealtimeClient and provider, with its own
 * token), so a viewer sees sync happen.
 */
import { type CSSProperties, type ReactNode, useState } from 'react';
import { SyncDevtools } from '../../src/devtools.js';
import { RealtimeProvider, useConnectionError, useConnectionStatus, useRealtime } from '../../src/react.js';
import { indexedDbStorage } from '../../src/storage.js';

/**
 * The relay: `?relay=` on the page (the e2e tests use it), else STORYBOOK_RELAY_URL (set by
 * `npm start`), else the default port on this machine.
 */
export function relayUrl(): string {
  const fromPage = new URLSearchParams(window.location.search).get('relay');
  return fromPage ?? import.meta.env.STORYBOOK_RELAY_URL ?? 'http://127.0.0.1:8787';
}

/**
 * The dev-only token endpoint (server/dev/token-server.ts): `?tokens=` on the page (the e2e
 * tests use it), else STORYBOOK_TOKEN_URL (set by `npm start`), else its default port here.
 */
export function tokenUrl(): string {
  const fromPage = new URLSearchParams(window.location.search).get('tokens');
  return fromPage ?? import.meta.env.STORYBOOK_TOKEN_URL ?? 'http://127.0.0.1:8788/token';
}

/**
 * A token function for `<RealtimeProvider token>`: asks the dev token endpoint for a token of
 * `user` with `grants` (`service:read,write`, `*:read`, ...) before every connect and refresh.
 * A real app asks its own backend instead, which decides the grants after its own login.
 */
export function tokenFor(user: string, grants: readonly string[], endpoint: string = tokenUrl()): () => Promise<string> {
  const query = new URLSearchParams({ user });
  for (const grant of grants) query.append('grant', grant);
  return async () => {
    const res = await fetch(`${endpoint}?${query}`);
    const body = (await res.json()) as { token?: unknown; error?: unknown };
    if (!res.ok || typeof body.token !== 'string') throw new Error(String(body.error ?? `the token endpoint answered ${res.status}`));
    return body.token;
  };
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
  error: { color: '#b91c1c', margin: '4px 0' } satisfies CSSProperties,
};

/**
 * Why the connection of the surrounding provider is down, in a line: the relay refused the
 * token (or this user's connection), or the token function failed (the client keeps trying).
 */
function useConnectionProblem(): string | undefined {
  const error = useConnectionError();
  if (!error) return undefined;
  return error.code === 'unavailable' ? error.message : `refused: ${error.message}`;
}

/** Connection status, the token's user, why it is down, and an offline switch, for the client of the surrounding provider. */
export function ConnectionBar({ label, title }: { label: string; title?: ReactNode }): ReactNode {
  const client = useRealtime();
  const status = useConnectionStatus();
  const problem = useConnectionProblem();
  const offline = status === 'closed';
  const color = status === 'open' ? '#16a34a' : status === 'closed' ? '#64748b' : '#d97706';
  const user = status === 'open' ? client.identity?.user : undefined;
  return (
    <div style={{ marginBottom: 8 }}>
      <b>{title ?? `Client ${label}`}</b>{' '}
      <span style={{ ...styles.badge, background: color, color: 'white' }} data-testid="connection">
        {status}
      </span>{' '}
      {user && <span style={{ color: '#475569', marginRight: 6 }}>as {user}</span>}
      <button style={styles.button} onClick={() => (offline ? client.connect() : client.disconnect())}>
        {offline ? 'Go online' : 'Go offline'}
      </button>
      {problem && (
        <div style={styles.error} data-testid="connection-error">
          {problem}
        </div>
      )}
    </div>
  );
}

/**
 * One client in a box: its own RealtimeClient (provider), signed in as `user` with `grants`
 * from the dev token endpoint, its connection bar, and optionally the devtools panel of a document.
 * With `storage` (a name), its documents and pending writes are kept in the IndexedDB storage of
 * that name (`indexedDbStorage`), so they survive a reload of the page.
 */
export function ClientPanel({
  label,
  title,
  user,
  grants,
  devtools,
  storage: storageName,
  children,
}: {
  label: string;
  title?: ReactNode;
  user: string;
  grants: readonly string[];
  devtools?: { service: string; id: string } | undefined;
  storage?: string | undefined;
  children: ReactNode;
}): ReactNode {
  const [url] = useState(relayUrl);
  const [token] = useState(() => tokenFor(user, grants));
  // Made once per client, as the provider reads it once; the page going away releases it.
  const [storage] = useState(() => (storageName === undefined ? undefined : indexedDbStorage(storageName)));
  return (
    <RealtimeProvider url={url} token={token} storage={storage}>
      <section style={styles.client} data-testid={`client-${label}`}>
        <ConnectionBar label={label} title={title} />
        {children}
        {devtools && <SyncDevtools service={devtools.service} id={devtools.id} style={{ marginTop: 12 }} />}
      </section>
    </RealtimeProvider>
  );
}

/** A demo's heading and intro, with the relay it talks to. */
export function DemoPage({ title, intro, children }: { title: string; intro: ReactNode; children: ReactNode }): ReactNode {
  const [url] = useState(relayUrl);
  return (
    <div style={styles.page}>
      <h2 style={{ margin: '0 0 4px' }}>{title}</h2>
      <p style={{ margin: '0 0 12px', color: '#475569' }}>
        {intro} <span style={{ opacity: 0.7 }}>Relay: {url}</span>
      </p>
      {children}
    </div>
  );
}

const USERS = { A: 'alice', B: 'bob' } as const;

/**
 * Two independent clients of one relay, side by side, signed in as alice (A) and bob (B) with
 * the same `grants`, each with the devtools panel of `devtools`, and with `storage`, each with
 * the IndexedDB storage it names for the client.
 */
export function TwoClients({
  title,
  intro,
  grants,
  devtools,
  storage,
  children,
}: {
  title: string;
  intro: ReactNode;
  /** What both clients' tokens allow, e.g. `['counter:read,write']`. */
  grants: readonly string[];
  devtools?: { service: string; id: string };
  /**
   * The storage name of each client (see {@link ClientPanel}). Give each its own: clients on one
   * storage share its pending writes, so after a reload either could send the other's.
   */
  storage?: (label: 'A' | 'B') => string;
  children: (label: 'A' | 'B') => ReactNode;
}): ReactNode {
  return (
    <DemoPage title={title} intro={intro}>
      <div style={styles.row}>
        {(['A', 'B'] as const).map((label) => (
          <ClientPanel key={label} label={label} user={USERS[label]} grants={grants} devtools={devtools} storage={storage?.(label)}>
            {children(label)}
          </ClientPanel>
        ))}
      </div>
    </DemoPage>
  );
}

/** Collects one-line messages about what a write did, newest first (for the conflict demo). */
export function useLog(): [string[], (line: string) => void] {
  const [lines, setLines] = useState<string[]>([]);
  return [lines, (line) => setLines((prev) => [line, ...prev].slice(0, 8))];
}
