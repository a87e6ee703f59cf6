// @vitest-environment jsdom
import { act, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { RealtimeProvider, useSyncDocument } from '../../src/react.js';
import { connect, startRelay } from '../helpers/relay.js';

function Counter({ id }: { id: string }) {
  const doc = useSyncDocument<{ count: number }>('counter', id);
  return (
    <div>
      <span data-testid="status">{doc.status}</span>
      <span data-testid="count">{doc.data?.count ?? '-'}</span>
      <button onClick={() => void doc.update((d) => void (d.count += 1))}>inc</button>
    </div>
  );
}

describe('hooks smoke', () => {
  it('shows a document and an optimistic update', async () => {
    const relay = await startRelay('memory');
    const client = connect(relay);
    await client.sync.create('counter', { count: 1 }, 'c1');
    render(
      <RealtimeProvider client={client}>
        <Counter id="c1" />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('count').textContent).toBe('1'));
    act(() => screen.getByText('inc').click());
    expect(screen.getByTestId('count').textContent).toBe('2');
    await waitFor(async () => expect((await client.sync.get('counter', 'c1')).data).toEqual({ count: 2 }));
  });
});
