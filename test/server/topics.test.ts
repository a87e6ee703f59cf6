/** Routing and frames, without sockets: the index the relay fans out with. */
import { describe, expect, it } from 'vitest';
import { EventFrames, SubscriptionIndex, type Subscription } from '../../server/topics.js';
import { storeEvent } from '../../server/store/store-event.js';
import type { SyncEventMetadata } from '../../src/index.js';

const meta = (id: string, operation: SyncEventMetadata['operation'] = 'merge'): SyncEventMetadata => ({
  operation,
  service: 'todo',
  id,
  revision: 2,
  timestamp: 1,
  incarnation: 'k3v9q0a1b2c4',
});

describe('SubscriptionIndex', () => {
  const sub = (owner: string, topic: string, filter?: Subscription<string>['filter'], mode: Subscription<string>['mode'] = 'full'): Subscription<string> => ({
    owner,
    sub: `${owner}-${topic}`,
    topic,
    filter,
    mode,
  });

  it('routes exact topics, patterns, id filters and data filters, one mode per connection', () => {
    const index = new SubscriptionIndex<string>();
    index.add(sub('exact', 'sync.todo.updated'));
    index.add(sub('pattern', 'sync.*.updated', undefined, 'diff'));
    index.add(sub('doc1', 'sync.todo.*', { id: 'd1' }, 'diff'));
    index.add(sub('doc2', 'sync.todo.*', { id: 'd2' }));
    index.add(sub('paid', 'sync.todo.*', { status: 'paid' }));
    index.add(sub('pattern', 'sync.todo.updated')); // a second subscription of one connection
    const data = { status: 'paid' };
    let reads = 0;
    const routed = index.route('sync.todo.updated', meta('d1'), () => (reads++, data));
    expect(Object.fromEntries(routed)).toEqual({ exact: 'full', pattern: 'both', doc1: 'diff', paid: 'full' });
    expect(reads).toBe(1); // data is read once, and only for the data filter
    expect(index.route('sync.todo.created', meta('d2', 'create'), () => ({}))).toEqual(new Map([['doc2', 'full']]));
    expect(index.route('sync.other.deleted', meta('x', 'delete'), () => ({})).size).toBe(0);
  });

  it('counts subscriptions exactly through adds, repeats and deletes', () => {
    const index = new SubscriptionIndex<string>();
    const subs = Array.from({ length: 5000 }, (_, i) => sub(`c${i}`, 'sync.todo.*', { id: `d${i}` }));
    for (const s of subs) index.add(s);
    index.add(subs[0]!); // the same subscription again changes nothing
    expect(index.size).toBe(5000);
    index.delete(sub('stranger', 'sync.todo.*', { id: 'd1' })); // unknown: nothing removed
    for (const s of subs) index.delete(s);
    index.delete(subs[0]!);
    expect(index.size).toBe(0);
    expect(index.route('sync.todo.updated', meta('d1'), () => ({})).size).toBe(0);
  });
});

describe('EventFrames', () => {
  it('joins valid frames for every mode from texts made once', () => {
    let diffs = 0;
    const event = storeEvent({
      metadataJson: JSON.stringify(meta('d1')),
      dataJson: '{"text":"line\\nbreak \\"quoted\\"","n":1}',
      diff: () => (diffs++, { added: {}, removed: {}, changed: { n: { from: 0, to: 1 } } }),
    });
    const frames = new EventFrames(event);
    const parse = (mode: 'full' | 'diff' | 'both') => JSON.parse(frames.frame(mode).toString()) as { type: string; event: Record<string, unknown> };
    expect(parse('full')).toEqual({
      type: 'event',
      event: { topic: 'sync.todo.updated', source: 'sync', metadata: meta('d1'), payload: { data: { text: 'line\nbreak "quoted"', n: 1 } } },
    });
    expect(parse('diff').event.payload).toEqual({ diff: { added: {}, removed: {}, changed: { n: { from: 0, to: 1 } } } });
    expect(Object.keys(parse('both').event.payload as object)).toEqual(['data', 'diff']);
    expect(frames.frame('full')).toBe(frames.frame('full')); // one buffer for every receiver
    expect(diffs).toBe(1);
  });
});
