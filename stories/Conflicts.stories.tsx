/**
 * Conflicts and rollback: a client that missed a write sends a `replace` with its stale
 * revision (the optimistic value shows, the relay answers `conflict`, the value rolls back)
 * and an `update` (the relay answers `conflict`, the recipe re-runs on the latest state, lands).
 */
import type { Meta, StoryObj } from '@storybook/react-vite';
import type { ReactNode } from 'react';
import type { SyncError } from '../src/index.js';
import { useSyncDocument } from '../src/react.js';
import { TwoClients, docId, styles, useLog } from './support/demo.js';

interface Counter {
  value: number;
}

function Counter({ id }: { id: string }): ReactNode {
  const doc = useSyncDocument<Counter>('counter', id, { create: { value: 0 } });
  const [log, write] = useLog();
  if (doc.status !== 'ready' || !doc.data) return <p data-testid="doc-status">{doc.status}</p>;
  const seen = doc.revision;
  const track = (what: string, p: Promise<{ revision: number } | void>) =>
    p.then(
      (d) => write(`${what}: landed${d ? ` at revision ${d.revision}` : ''}`),
      (err: SyncError) => write(`${what}: ${err.code} — rolled back (${err.message})`),
    );
  return (
    <div>
      <p style={{ fontSize: 28, margin: '4px 0' }}>
        <b data-testid="value">{doc.data.value}</b>
      </p>
      <p>
        revision <b data-testid="revision">{doc.revision}</b> · <span data-testid="pending">{doc.pending} pending</span>
      </p>
      <button style={styles.button} onClick={() => void track('update +1', doc.update((d) => void (d.value += 1)))}>
        +1 (update)
      </button>
      <button style={styles.button} onClick={() => void track(`replace with 100 expecting r${seen}`, doc.replace({ value: 100 }, seen))}>
        Set to 100 (replace, expecting r{seen})
      </button>
      <ol style={{ paddingLeft: 18, fontSize: 13 }} data-testid="log">
        {log.map((line, i) => (
          <li key={i}>{line}</li>
        ))}
      </ol>
    </div>
  );
}

const meta: Meta = { title: 'Demos/Conflicts and rollback' };
export default meta;

export const Default: StoryObj = {
  render: () => {
    const id = docId('demo-conflicts');
    return (
      <TwoClients
        title="Conflicts and rollback"
        intro={
          <>
            Take B offline and press +1 on A. Then on B press +1 and “Set to 100”: both are built on B’s now stale
            revision and show at once. Bring B back online: the update is refused with a conflict, re-runs on the latest
            value and lands; the replace is refused and rolls back.
          </>
        }
        grants={['counter:read,write']}
        devtools={{ service: 'counter', id }}
      >
        {() => <Counter id={id} />}
      </TwoClients>
    );
  },
};
