/**
 * Offline and catch-up: writes made offline stay visible (pending) and go out once, in order,
 * when the client is back; it then catches up on what the other client wrote meanwhile. Each
 * client keeps its documents and pending writes in IndexedDB (a storage of its own), so a reload
 * while offline loses nothing: the journal shows at once from storage, flagged as not yet
 * confirmed, and the writes the page before left go out once the relay is reachable.
 */
import type { Meta, StoryObj } from '@storybook/react-vite';
import type { ReactNode } from 'react';
import { append } from '../src/index.js';
import { useSyncDocument } from '../src/react.js';
import { TwoClients, docId, styles } from './support/demo.js';

interface Journal {
  entries: string[];
}

function JournalView({ id, label }: { id: string; label: string }): ReactNode {
  const doc = useSyncDocument<Journal>('journal', id, { create: { entries: [] } });
  if (doc.status !== 'ready' || !doc.data) return <p data-testid="doc-status">{doc.status}</p>;
  const count = doc.data.entries.filter((e) => e.startsWith(`${label}:`)).length;
  const add = (n: number) => void doc.mutate({ entries: append(`${label}: note ${n}`) }).catch(() => {});
  return (
    <div>
      <p>
        {doc.data.entries.length} entries · revision <b data-testid="revision">{doc.revision}</b> ·{' '}
        <span data-testid="pending">{doc.pending} pending</span>
      </p>
      {doc.unconfirmed && (
        <p style={{ ...styles.badge, background: '#fef3c7', color: '#92400e' }} data-testid="unconfirmed">
          from storage, not yet confirmed by the relay
        </p>
      )}
      <button style={styles.button} onClick={() => add(count + 1)}>
        Add an entry
      </button>
      {/* Two writes in one click: they go out (and, after a reload, again) in the order made. */}
      <button
        style={styles.button}
        onClick={() => {
          add(count + 1);
          add(count + 2);
        }}
      >
        Add two entries
      </button>
      <ol data-testid="entries">
        {doc.data.entries.map((e, i) => (
          <li key={i}>{e}</li>
        ))}
      </ol>
    </div>
  );
}

const meta: Meta = { title: 'Demos/Offline and catch-up' };
export default meta;

export const Default: StoryObj = {
  render: () => {
    const id = docId('demo-journal');
    return (
      <TwoClients
        title="Offline and catch-up"
        intro="Take one client offline, add entries on both, then bring it back: its queue goes out once and it catches up. Reload the page while offline: each client keeps its journal and its pending entries in its own IndexedDB storage, shows them at once, and sends them once it can."
        grants={['journal:read,write']}
        devtools={{ service: 'journal', id }}
        storage={(label) => `offline-demo-${label}`}
      >
        {(label) => <JournalView id={id} label={label} />}
      </TwoClients>
    );
  },
};
