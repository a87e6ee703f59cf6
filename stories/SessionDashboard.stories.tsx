/**
 * The seed's `session` document on two clients: join/leave with `mutate` + `increment`, end the
 * session with `replace` + `expectedRevision`, edit notes with `merge`.
 */
import type { Meta, StoryObj } from '@storybook/react-vite';
import { type ReactNode, useState } from 'react';
import { increment } from '../src/index.js';
import { useSyncDocument } from '../src/react.js';
import { TwoClients, docId, styles } from './support/demo.js';

interface Session {
  status: 'active' | 'ended';
  participantCount: number;
  notes: string;
}

const INITIAL: Session = { status: 'active', participantCount: 0, notes: '' };

function Dashboard({ id }: { id: string }): ReactNode {
  const doc = useSyncDocument<Session>('session', id, { create: INITIAL });
  const [message, setMessage] = useState('');
  if (doc.status !== 'ready' || !doc.data) return <p data-testid="doc-status">{doc.status}</p>;
  const session = doc.data;
  const report = (p: Promise<unknown>) => p.then(() => setMessage(''), (err: Error) => setMessage(err.message));
  return (
    <div>
      <p>
        Status <b data-testid="session-status">{session.status}</b> · participants{' '}
        <b data-testid="participants">{session.participantCount}</b> · revision <b data-testid="revision">{doc.revision}</b>{' '}
        {doc.pending > 0 && <span style={styles.badge}>{doc.pending} pending</span>}
      </p>
      <button style={styles.button} disabled={session.status === 'ended'} onClick={() => report(doc.mutate({ participantCount: increment(1) }))}>
        Join
      </button>
      <button
        style={styles.button}
        disabled={session.participantCount === 0}
        onClick={() => report(doc.mutate({ participantCount: increment(-1) }))}
      >
        Leave
      </button>
      <button
        style={styles.button}
        disabled={session.status === 'ended'}
        onClick={() => report(doc.replace({ ...session, status: 'ended' }, doc.revision))}
      >
        End session
      </button>
      <button style={styles.button} onClick={() => report(doc.replace(INITIAL))}>
        Restart
      </button>
      <label style={{ display: 'block', marginTop: 8 }}>
        Notes
        <textarea
          data-testid="notes"
          style={{ display: 'block', width: '100%', minHeight: 60 }}
          value={session.notes}
          onChange={(e) => void report(doc.merge({ notes: e.target.value }))}
        />
      </label>
      {message && <p style={{ color: '#b91c1c' }}>{message}</p>}
    </div>
  );
}

const meta: Meta = { title: 'Demos/Session dashboard' };
export default meta;

export const Default: StoryObj = {
  render: () => {
    const id = docId('demo-session');
    return (
      <TwoClients
        title="Session dashboard"
        intro="Two clients of one session document. Join, leave, end and edit notes on either side."
        grants={['session:read,write']}
        devtools={{ service: 'session', id }}
      >
        {() => <Dashboard id={id} />}
      </TwoClients>
    );
  },
};
