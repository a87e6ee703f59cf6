/**
 * Pre-built WebSocket frames: the bytes match what `ws` itself frames, and events of every
 * length class (7-bit, 16-bit and 64-bit lengths) reach a real subscriber intact.
 */
import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import type { SyncEvent } from '../../src/index.js';
import { textFrame } from '../../server/ws-frame.js';
import { connect, eventually, opened, startRelay } from '../helpers/relay.js';

// ws exports its Sender at run time (not in @types/ws); its static frame() is the reference.
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};

describe('textFrame', () => {
  it('makes the same bytes as ws for payloads around each length boundary', () => {
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
      const payload = Buffer.alloc(n, 'x');
      const expected = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
      expect(textFrame(payload).equals(expected), `length ${n}`).toBe(true);
    }
  });

  it('carries events of every length class to a subscriber intact', async () => {
    const relay = await startRelay('memory');
    const client = await opened(connect(relay));
    const seen: SyncEvent[] = [];
    client.subscribe({ topic: 'sync.frames.*' }, (e) => seen.push(e));
    await client.request({ type: 'ping' });
    const sizes = [10, 1000, 100_000];
    for (const n of sizes) await client.sync.create('frames', { s: 'y'.repeat(n) });
    await eventually(() => seen.length === sizes.length, 5000, 'one event per document');
    expect(seen.map((e) => (e.payload.data as { s: string }).s.length)).toEqual(sizes);
  });
});
