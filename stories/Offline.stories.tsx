/**
 * Offline and catch-up: writes made offline stay visible (pending) and go out once, in order,
 * when the client is back; it then catches up on what the other client wrote meanwhile.
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
  return (
    <div>
      <p>
        {doc.data.entries.length} entries · revision <b data-testid="revision">{doc.revision}</b> ·{' '}
        <span data-testid="pending">{doc.pending} pending</span>
      </p>
      <button style={styles.button} onClick={() => void doc.mutate({ entries: append(`${label}: note ${count + 1}`) }).catch(() => {})}>
        Add an entry
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
        intro="Take one client offline, add entries on both, then bring it back: its queue goes out once and it catches up."
        grants={['journal:read,write']}
        devtools={{ service: 'journal', id }}
      >
        {(label) => <JournalView id={id} label={label} />}
      </TwoClients>
    );
  },
};
