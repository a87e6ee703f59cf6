/** A shared todo list: add, toggle, reorder and delete with `update` recipes; a pending badge per client. */
import type { Meta, StoryObj } from '@storybook/react-vite';
import { type ReactNode, useState } from 'react';
import { useSyncDocument } from '../src/react.js';
import { TwoClients, docId, styles } from './support/demo.js';

interface Todo {
  id: string;
  text: string;
  done: boolean;
}
interface TodoList {
  items: Todo[];
}

const newId = () => Math.random().toString(36).slice(2, 10);

function Todos({ id }: { id: string }): ReactNode {
  const doc = useSyncDocument<TodoList>('todos', id, { create: { items: [] } });
  const [text, setText] = useState('');
  if (doc.status !== 'ready' || !doc.data) return <p data-testid="doc-status">{doc.status}</p>;
  const move = (todoId: string, by: number) =>
    doc.update((d) => {
      const i = d.items.findIndex((t) => t.id === todoId);
      const j = i + by;
      if (i < 0 || j < 0 || j >= d.items.length) return;
      const [item] = d.items.splice(i, 1);
      d.items.splice(j, 0, item!);
    });
  const add = () => {
    const value = text.trim();
    if (!value) return;
    void doc.update((d) => void d.items.push({ id: newId(), text: value, done: false }));
    setText('');
  };
  return (
    <div>
      <p>
        {doc.data.items.length} items · revision {doc.revision}{' '}
        <span style={{ ...styles.badge, background: doc.pending ? '#fde68a' : '#e2e8f0' }} data-testid="pending">
          {doc.pending} pending
        </span>
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add();
        }}
      >
        <input data-testid="new-todo" value={text} onChange={(e) => setText(e.target.value)} placeholder="What needs doing?" />
        <button style={styles.button} type="submit">
          Add
        </button>
      </form>
      <ul style={{ paddingLeft: 0, listStyle: 'none' }} data-testid="todos">
        {doc.data.items.map((t, i) => (
          <li key={t.id} style={{ margin: '4px 0' }}>
            <label>
              <input
                type="checkbox"
                checked={t.done}
                onChange={() =>
                  void doc.update((d) => {
                    const item = d.items.find((x) => x.id === t.id);
                    if (item) item.done = !item.done;
                  })
                }
              />{' '}
              <span style={{ textDecoration: t.done ? 'line-through' : 'none' }}>{t.text}</span>
            </label>{' '}
            <button style={styles.button} disabled={i === 0} onClick={() => void move(t.id, -1)} aria-label={`move ${t.text} up`}>
              ↑
            </button>
            <button
              style={styles.button}
              disabled={i === doc.data!.items.length - 1}
              onClick={() => void move(t.id, 1)}
              aria-label={`move ${t.text} down`}
            >
              ↓
            </button>
            <button
              style={styles.button}
              onClick={() =>
                void doc.update((d) => {
                  const at = d.items.findIndex((x) => x.id === t.id);
                  if (at >= 0) d.items.splice(at, 1);
                })
              }
              aria-label={`delete ${t.text}`}
            >
              ✕
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

const meta: Meta = { title: 'Demos/Shared todo list' };
export default meta;

export const Default: StoryObj = {
  render: () => {
    const id = docId('demo-todos');
    return (
      <TwoClients
        title="Shared todo list"
        intro="Edits are Immer recipes sent as field operations."
        grants={['todos:read,write']}
        devtools={{ service: 'todos', id }}
      >
        {() => <Todos id={id} />}
      </TwoClients>
    );
  },
};
