/** Live events of one topic pattern in the three return modes, side by side, with buttons that write. */
import type { Meta, StoryObj } from '@storybook/react-vite';
import { type ReactNode, useState } from 'react';
import { type ReturnMode, type SyncEvent, increment } from '../src/index.js';
import { RealtimeProvider, useRealtime, useSyncEvents } from '../src/react.js';
import { ConnectionBar, docId, relayUrl, styles, tokenFor } from './support/demo.js';

function Column({ mode }: { mode: ReturnMode }): ReactNode {
  const [events, setEvents] = useState<SyncEvent[]>([]);
  useSyncEvents('sync.inspector.*', (e) => setEvents((prev) => [e, ...prev].slice(0, 6)), { returnMode: mode });
  return (
    <div style={{ ...styles.client, flex: '1 1 280px' }} data-testid={`events-${mode}`}>
      <b>returnMode: {mode}</b> <span style={styles.badge}>{events.length}</span>
      {events.map((e) => (
        <pre key={`${e.metadata.id}-${e.metadata.revision}`} style={{ fontSize: 11, whiteSpace: 'pre-wrap', background: 'white', padding: 6 }}>
          {`${e.topic} r${e.metadata.revision}\n${JSON.stringify(e.payload, null, 1)}`}
        </pre>
      ))}
    </div>
  );
}

function Writer({ id }: { id: string }): ReactNode {
  const client = useRealtime();
  const [note, setNote] = useState('');
  const run = (p: Promise<unknown>) => p.then(() => setNote(''), (err: Error) => setNote(err.message));
  return (
    <div style={{ marginBottom: 12 }}>
      <button style={styles.button} onClick={() => void run(client.sync.create('inspector', { status: 'new', count: 0 }, id))}>
        create
      </button>
      <button style={styles.button} onClick={() => void run(client.sync.merge('inspector', id, { status: 'open', note: 'hi' }))}>
        merge
      </button>
      <button style={styles.button} onClick={() => void run(client.sync.mutate('inspector', id, { count: increment(1) }))}>
        mutate
      </button>
      <button style={styles.button} onClick={() => void run(client.sync.delete('inspector', id))}>
        delete
      </button>
      {note && <span style={{ color: '#b91c1c' }}> {note}</span>}
    </div>
  );
}

const meta: Meta = { title: 'Demos/Event inspector' };
export default meta;

export const Default: StoryObj = {
  render: () => {
    const [url] = useState(relayUrl);
    const [token] = useState(() => tokenFor('inspector', ['inspector:read,write']));
    const [id] = useState(() => docId(`inspect-${Math.random().toString(36).slice(2, 8)}`));
    return (
      <RealtimeProvider url={url} token={token}>
        <div style={styles.page}>
          <h2 style={{ margin: '0 0 4px' }}>Event inspector</h2>
          <p style={{ margin: '0 0 12px', color: '#475569' }}>
            Events of <code>sync.inspector.*</code> for document <code>{id}</code>, in each return mode. Relay: {url}
          </p>
          <ConnectionBar label="inspector" />
          <Writer id={id} />
          <div style={styles.row}>
            {(['full', 'diff', 'both'] as const).map((mode) => (
              <Column key={mode} mode={mode} />
            ))}
          </div>
        </div>
      </RealtimeProvider>
    );
  },
};
