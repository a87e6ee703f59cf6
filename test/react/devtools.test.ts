/** The devtools panel words the activity log's facts; the log itself (core) stores no text. */
import { describe, expect, it } from 'vitest';
import { describeActivity } from '../../src/devtools.js';

describe('describeActivity', () => {
  const at = 0;
  it('words every kind of line', () => {
    expect(describeActivity({ at, kind: 'event', revision: 4, operation: 'mutate', mutationId: 'm_a' })).toBe('r4 mutate (m_a)');
    expect(describeActivity({ at, kind: 'event', revision: 5, operation: 'replace', mutationId: undefined })).toBe('r5 replace');
    expect(describeActivity({ at, kind: 'ack', write: 'merge', mutationId: 'm_b', revision: 6 })).toBe('merge m_b -> r6');
    expect(describeActivity({ at, kind: 'ack', write: 'delete', mutationId: 'm_c', revision: undefined })).toBe('delete m_c');
    expect(describeActivity({ at, kind: 'retry', write: 'update', mutationId: 'm_d', revision: 7 })).toBe(
      'update m_d: conflict at r7, re-running on the latest state',
    );
    expect(describeActivity({ at, kind: 'retry', write: 'update', mutationId: 'm_d', revision: undefined })).toMatch(/conflict at r\?/);
    expect(describeActivity({ at, kind: 'retry', write: 'merge', mutationId: 'm_t', error: 'timeout' })).toBe('merge m_t: no answer in time, sending again (applied once whatever happened)');
    expect(describeActivity({ at, kind: 'rollback', write: 'replace', mutationId: 'm_e', error: 'conflict' })).toBe('replace m_e: conflict');
    expect(describeActivity({ at, kind: 'dropped', error: 's/d is gone: the relay lost it' })).toBe('document dropped: s/d is gone: the relay lost it');
    expect(describeActivity({ at, kind: 'catch-up', changes: 3, since: 8 })).toBe('3 change(s) after r8');
    expect(describeActivity({ at, kind: 'catch-up', revision: 9 })).toBe('snapshot at r9');
    expect(describeActivity({ at, kind: 'catch-up', error: 'the relay did not answer' })).toBe('failed: the relay did not answer');
    expect(describeActivity({ at, kind: 'catch-up', revision: 10, error: 'no such path' })).toBe('diff of r10 did not apply (no such path)');
  });
});
