/**
 * Permissions: one document, two tokens. The writer (`permissions:read,write`) creates and edits
 * it; the reader (`permissions:read`) sees every change, and its own edits show at once, are
 * refused by the relay with `forbidden` and roll back.
 */
import type { Meta, StoryObj } from '@storybook/react-vite';
import { type ReactNode, useEffect, useState } from 'react';
import { type SyncError, increment } from '../src/index.js';
import { useSyncDocument } from '../src/react.js';
import { ClientPanel, DemoPage, docId, styles } from './support/demo.js';

interface Note {
  title: string;
  likes: number;
}

const SERVICE = 'permissions';
const INITIAL: Note = { title: 'Hello', likes: 0 };

/** The note, editable; `create` makes it when missing (only a token with `write` may). */
function NoteView({ id, create, onReady }: { id: string; create?: boolean; onReady?: () => void }): ReactNode {
  const doc = useSyncDocument<Note>(SERVICE, id, create ? { create: INITIAL } : {});
  const [refusal, setRefusal] = useState('');
  const ready = doc.status === 'ready';
  useEffect(() => {
    if (ready) onReady?.();
  }, [ready, onReady]);
  const report = (p: Promise<unknown>) => p.then(() => setRefusal(''), (err: SyncError) => setRefusal(`refused: ${err.message}`));
  if (!ready || !doc.data) return <p data-testid="doc-status">{doc.status}</p>;
  return (
    <div>
      <label style={{ display: 'block' }}>
        Title
        <input
          data-testid="title"
          style={{ display: 'block', width: '100%', boxSizing: 'border-box', marginBottom: 8 }}
          value={doc.data.title}
          onChange={(e) => void report(doc.merge({ title: e.target.value }))}
        />
      </label>
      <p style={{ margin: '0 0 8px' }}>
        <b data-testid="likes">{doc.data.likes}</b> likes{' '}
        <button style={styles.button} onClick={() => void report(doc.mutate({ likes: increment(1) }))}>
          +1 like
        </button>
      </p>
      <p style={{ margin: 0 }}>
        revision <b data-testid="revision">{doc.revision}</b> · <span data-testid="pending">{doc.pending} pending</span>
      </p>
      {refusal && (
        <p style={styles.error} data-testid="refusal">
          {refusal}
        </p>
      )}
    </div>
  );
}

/** What a client's token allows. */
function Grants({ grants }: { grants: readonly string[] }): ReactNode {
  return (
    <p style={{ margin: '0 0 8px' }} data-testid="grants">
      Token grants{' '}
      {grants.map((g) => (
        <code key={g} style={styles.badge}>
          {g}
        </code>
      ))}
    </p>
  );
}

const meta: Meta = { title: 'Demos/Permissions' };
export default meta;

const WRITER = ['permissions:read,write'];
const READER = ['permissions:read'];

export const Default: StoryObj = {
  render: () => {
    const [id] = useState(() => docId('demo-permissions'));
    // The reader may not create the document: it opens it once the writer has.
    const [created, setCreated] = useState(false);
    const [markCreated] = useState(() => () => setCreated(true));
    const devtools = { service: SERVICE, id };
    return (
      <DemoPage
        title="Permissions"
        intro={
          <>
            Same document, different tokens. Edit on the writer: the reader follows. Edit on the reader: the change shows
            at once, the relay refuses it (<code>forbidden</code>) and it rolls back. Take the reader offline first to see
            its edit wait as pending.
          </>
        }
      >
        <div style={styles.row}>
          <ClientPanel label="writer" title="Writer" user="alice" grants={WRITER} devtools={devtools}>
            <Grants grants={WRITER} />
            <NoteView id={id} create onReady={markCreated} />
          </ClientPanel>
          <ClientPanel label="reader" title="Reader (read only)" user="bob" grants={READER} devtools={created ? devtools : undefined}>
            <Grants grants={READER} />
            {created ? (
              <NoteView id={id} />
            ) : (
              <p data-testid="doc-status">
                waiting for the writer to create {SERVICE}/{id}
              </p>
            )}
          </ClientPanel>
        </div>
      </DemoPage>
    );
  },
};
