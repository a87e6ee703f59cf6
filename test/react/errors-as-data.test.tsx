// @vitest-environment jsdom
/** Errors are data: bad names give status 'error', not an exception during render. */
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { RealtimeProvider, useSyncDocument } from '../../src/react.js';
import { connect, startRelay } from '../helpers/relay.js';

function Show({ service, id }: { service: string; id: string }) {
  const doc = useSyncDocument(service, id);
  return (
    <p data-testid="out">
      {doc.status}:{doc.error?.code ?? '-'}
    </p>
  );
}

afterEach(cleanup);

describe('errors as data', () => {
  it.each([
    ['bad service', 'has space', 'ok'],
    ['bad id', 'ok', 'a/b'],
  ])('%s renders status error with code invalid', async (_name, service, id) => {
    const client = connect(await startRelay('memory'));
    render(
      <RealtimeProvider client={client}>
        <Show service={service} id={id} />
      </RealtimeProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('out').textContent).toBe('error:invalid'));
  });
});
