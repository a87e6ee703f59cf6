/**
 * The relay survives malformed frames: each one gets exactly one typed error reply
 * `{ type: 'error', rid, error: { status, code, message } }` (rid echoed when the frame had a
 * usable one, else null), nothing is written, nothing is logged as an internal error, and the
 * same socket, and other connections, keep working afterwards. Runs on both stores over a raw
 * `ws` socket, so the frames are exactly the bytes written here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ErrorMessage, ServerMessage, SyncDocument, SyncErrorCode } from '../../src/protocol/index.js';
import type { Relay } from '../../server/index.js';
import { STORES, connect, opened, startRelay } from '../helpers/relay.js';

const REPLY_TIMEOUT_MS = 5000;
const STATUS: Partial<Record<SyncErrorCode, number>> = { invalid: 400, too_large: 413, not_found: 404 };
/** Default relay limits (SPEC): 256 KiB serialized document, nesting depth 32. */
const MAX_DOCUMENT_BYTES = 256 * 1024;

/** A raw WebSocket to the relay whose incoming messages are read strictly in order. */
class RawSocket {
  private readonly queue: ServerMessage[] = [];
  private wake: (() => void) | undefined;
  private closedWith: { code: number; reason: string } | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
      let message: ServerMessage;
      try {
        // The relay only ever sends JSON text; anything else shows up as a failed expectation.
        message = isBinary ? ({ type: 'binary frame', text } as unknown as ServerMessage) : (JSON.parse(text) as ServerMessage);
      } catch {
        message = { type: 'not JSON', text } as unknown as ServerMessage;
      }
      this.queue.push(message);
      this.wake?.();
    });
    ws.on('close', (code, reason) => {
      this.closedWith = { code, reason: reason.toString('utf8') };
      this.wake?.();
    });
  }

  /** Opens a socket to `relay` (its http:// url turned into ws://). */
  static async open(relay: { url: string }): Promise<RawSocket> {
    const ws = new WebSocket(relay.url.replace(/^http/, 'ws'));
    const socket = new RawSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return socket;
  }

  /** Messages received and not yet read. */
  get unread(): number {
    return this.queue.length;
  }

  /** How the relay closed the socket, once it has. */
  get closed(): { code: number; reason: string } | undefined {
    return this.closedWith;
  }

  send(frame: string | Buffer): void {
    if (typeof frame === 'string') this.ws.send(frame);
    else this.ws.send(frame, { binary: true });
  }

  /** The next message, in arrival order; rejects after `ms` or when the socket closed first. */
  async next(ms = REPLY_TIMEOUT_MS, what = 'a message'): Promise<ServerMessage> {
    const deadline = Date.now() + ms;
    while (this.queue.length === 0) {
      if (this.closedWith) throw new Error(`socket closed (${this.closedWith.code} ${this.closedWith.reason}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${ms} ms while waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.queue.shift()!;
  }

  /** Sends one frame and returns the next message, which must be its reply. */
  async request(frame: string | Buffer, what: string): Promise<ServerMessage> {
    expect(this.unread, `stray messages before sending ${what}`).toBe(0);
    this.send(frame);
    return this.next(REPLY_TIMEOUT_MS, `the reply to ${what}`);
  }

  /**
   * A `ping` round trip: the relay handles frames in order, so when the ping's result is the very
   * next message, nothing else (no second reply to an earlier frame) was sent in between.
   */
  async barrier(rid: number): Promise<void> {
    const reply = await this.request(JSON.stringify({ type: 'ping', rid }), `ping ${rid}`);
    expect(reply, 'the message after a reply must be the ping barrier result').toEqual({ type: 'result', rid, result: null });
  }

  close(): void {
    this.ws.close();
  }
}

/** Asserts `reply` is the one typed error expected. */
function expectError(reply: ServerMessage, rid: number | null, code: SyncErrorCode, message?: RegExp): asserts reply is ErrorMessage {
  expect(reply.type, `expected an error reply, got ${JSON.stringify(reply).slice(0, 300)}`).toBe('error');
  const err = reply as ErrorMessage;
  expect(err.rid).toBe(rid);
  expect(Object.keys(err).sort()).toEqual(['error', 'rid', 'type']);
  expect(err.error.code).toBe(code);
  expect(err.error.status).toBe(STATUS[code]);
  expect(typeof err.error.message).toBe('string');
  expect(err.error.message.length).toBeGreaterThan(0);
  if (message) expect(err.error.message).toMatch(message);
}

function expectResult(reply: ServerMessage, rid: number): SyncDocument {
  expect(reply, `expected a result for rid ${rid}, got ${JSON.stringify(reply).slice(0, 300)}`).toMatchObject({ type: 'result', rid });
  return (reply as { result: SyncDocument }).result;
}

/** JSON nesting `levels` deep (the outermost object counts as level 1). */
function nested(levels: number): string {
  return `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
}

/** One kind of malformed frame. */
interface MalformedFrame {
  name: string;
  /** The frame, given the rid it should carry when it has a usable one. */
  frame: (rid: number) => string | Buffer;
  /** Whether the frame has a usable rid (positive safe integer) that the reply must echo; else the reply's rid is null. */
  hasRid: boolean;
  code: 'invalid' | 'too_large';
  /** What the error message must mention, so the frame is refused for the intended reason. */
  message?: RegExp;
}

const json = (o: Record<string, unknown>) => JSON.stringify(o);
/** A blob that takes a frame past the relay's pre-parse guard (2 x 256 KiB + 64 Ki characters) but under the socket cap (1 MiB). */
const OVER_GUARD = 'x'.repeat(700_000);
/** A blob that makes a document over 256 KiB while the frame still gets parsed. */
const OVER_DOCUMENT = 'y'.repeat(MAX_DOCUMENT_BYTES + 10_000);
/** Id of the document the oversized create names; it must never come into existence. */
const TOO_BIG_ID = 'too_big_doc';

const FRAMES: MalformedFrame[] = [
  // Frames with no usable rid: the reply's rid is null.
  { name: 'not JSON', frame: () => '{"rid":1,"type":"ping"', hasRid: false, code: 'invalid', message: /JSON/ },
  { name: 'empty text frame', frame: () => '', hasRid: false, code: 'invalid', message: /JSON/ },
  { name: 'JSON array', frame: () => '[{"rid":1,"type":"ping"}]', hasRid: false, code: 'invalid', message: /array/ },
  { name: 'JSON string', frame: () => '"ping"', hasRid: false, code: 'invalid', message: /object/ },
  { name: 'JSON null', frame: () => 'null', hasRid: false, code: 'invalid', message: /object/ },
  { name: 'JSON number', frame: () => '42', hasRid: false, code: 'invalid', message: /object/ },
  { name: 'missing rid', frame: () => json({ type: 'ping' }), hasRid: false, code: 'invalid', message: /rid/ },
  { name: 'rid 0', frame: () => json({ type: 'ping', rid: 0 }), hasRid: false, code: 'invalid', message: /rid/ },
  { name: 'negative rid', frame: () => json({ type: 'ping', rid: -3 }), hasRid: false, code: 'invalid', message: /rid/ },
  { name: 'float rid', frame: () => json({ type: 'ping', rid: 1.5 }), hasRid: false, code: 'invalid', message: /rid/ },
  { name: 'string rid', frame: () => json({ type: 'ping', rid: '7' }), hasRid: false, code: 'invalid', message: /rid/ },
  { name: 'boolean rid', frame: () => json({ type: 'ping', rid: true }), hasRid: false, code: 'invalid', message: /rid/ },
  { name: 'huge rid (1e20)', frame: () => '{"type":"ping","rid":1e20}', hasRid: false, code: 'invalid', message: /rid/ },
  { name: 'unsafe integer rid (2^53)', frame: () => '{"type":"ping","rid":9007199254740992}', hasRid: false, code: 'invalid', message: /rid/ },
  { name: 'binary frame', frame: () => Buffer.from('{"rid":1,"type":"ping"}'), hasRid: false, code: 'invalid', message: /binary/ },

  // Frames with a usable rid: the reply echoes it.
  { name: 'unknown type', frame: (rid) => json({ rid, type: 'explode' }), hasRid: true, code: 'invalid', message: /type/ },
  { name: 'missing type', frame: (rid) => json({ rid }), hasRid: true, code: 'invalid', message: /type/ },
  { name: 'type not a string', frame: (rid) => json({ rid, type: 42 }), hasRid: true, code: 'invalid', message: /type/ },
  { name: 'type "__proto__"', frame: (rid) => `{"rid":${rid},"type":"__proto__"}`, hasRid: true, code: 'invalid', message: /type/ },
  { name: 'create without data', frame: (rid) => json({ rid, type: 'create', service: 'notes' }), hasRid: true, code: 'invalid', message: /data/ },
  { name: 'create with data as array', frame: (rid) => json({ rid, type: 'create', service: 'notes', data: [1, 2] }), hasRid: true, code: 'invalid', message: /data/ },
  { name: 'create with data as string', frame: (rid) => json({ rid, type: 'create', service: 'notes', data: '{}' }), hasRid: true, code: 'invalid', message: /data/ },
  {
    name: 'data with an own top-level "__proto__" key',
    frame: (rid) => `{"rid":${rid},"type":"create","service":"notes","data":{"ok":1,"__proto__":{"polluted":true}}}`,
    hasRid: true,
    code: 'invalid',
    message: /__proto__/,
  },
  {
    name: 'merge with a nested "__proto__" key',
    frame: (rid) => `{"rid":${rid},"type":"merge","service":"notes","id":"n1","data":{"a":{"b":[{"__proto__":{"polluted":true}}]}}}`,
    hasRid: true,
    code: 'invalid',
    message: /__proto__/,
  },
  { name: 'service with a space', frame: (rid) => json({ rid, type: 'get', service: 'my notes', id: 'n1' }), hasRid: true, code: 'invalid', message: /service/ },
  { name: 'service of 65 characters', frame: (rid) => json({ rid, type: 'get', service: 's'.repeat(65), id: 'n1' }), hasRid: true, code: 'invalid', message: /service/ },
  { name: 'service missing', frame: (rid) => json({ rid, type: 'delete', id: 'n1' }), hasRid: true, code: 'invalid', message: /service/ },
  { name: 'id with a slash', frame: (rid) => json({ rid, type: 'get', service: 'notes', id: 'a/b' }), hasRid: true, code: 'invalid', message: /id/ },
  { name: 'id of 129 characters', frame: (rid) => json({ rid, type: 'create', service: 'notes', id: 'i'.repeat(129), data: {} }), hasRid: true, code: 'invalid', message: /id/ },
  { name: 'id as a number', frame: (rid) => json({ rid, type: 'get', service: 'notes', id: 12 }), hasRid: true, code: 'invalid', message: /id/ },
  {
    name: 'expectedRevision negative',
    frame: (rid) => json({ rid, type: 'replace', service: 'notes', id: 'n1', data: {}, expectedRevision: -1 }),
    hasRid: true,
    code: 'invalid',
    message: /expectedRevision/,
  },
  {
    name: 'expectedRevision as a string',
    frame: (rid) => json({ rid, type: 'delete', service: 'notes', id: 'n1', expectedRevision: '1' }),
    hasRid: true,
    code: 'invalid',
    message: /expectedRevision/,
  },
  { name: 'incarnation with a slash', frame: (rid) => json({ rid, type: 'merge', service: 'notes', id: 'n1', data: {}, incarnation: 'a/b' }), hasRid: true, code: 'invalid', message: /incarnation/ },
  { name: 'incarnation of 65 characters', frame: (rid) => json({ rid, type: 'delete', service: 'notes', id: 'n1', incarnation: 'i'.repeat(65) }), hasRid: true, code: 'invalid', message: /incarnation/ },
  { name: 'incarnation as a number', frame: (rid) => json({ rid, type: 'catchup', service: 'notes', id: 'n1', since: 0, incarnation: 7 }), hasRid: true, code: 'invalid', message: /incarnation/ },
  { name: 'mutationId with a space', frame: (rid) => json({ rid, type: 'create', service: 'notes', data: {}, mutationId: 'm 1' }), hasRid: true, code: 'invalid', message: /mutationId/ },
  { name: 'mutate with empty ops', frame: (rid) => json({ rid, type: 'mutate', service: 'notes', id: 'n1', ops: [] }), hasRid: true, code: 'invalid', message: /ops/ },
  { name: 'mutate with ops as a record', frame: (rid) => json({ rid, type: 'mutate', service: 'notes', id: 'n1', ops: { count: 1 } }), hasRid: true, code: 'invalid', message: /ops/ },
  {
    name: 'mutate with a bad op name',
    frame: (rid) => json({ rid, type: 'mutate', service: 'notes', id: 'n1', ops: [{ op: 'multiply', path: 'count', value: 2 }] }),
    hasRid: true,
    code: 'invalid',
    message: /op/,
  },
  {
    name: 'mutate with a non-finite increment (1e999)',
    frame: (rid) => `{"rid":${rid},"type":"mutate","service":"notes","id":"n1","ops":[{"op":"increment","path":"count","value":1e999}]}`,
    hasRid: true,
    code: 'invalid',
    message: /increment must be a number within/,
  },
  {
    name: 'mutate with a path through "__proto__"',
    frame: (rid) => json({ rid, type: 'mutate', service: 'notes', id: 'n1', ops: [{ op: 'set', path: 'a.__proto__.polluted', value: true }] }),
    hasRid: true,
    code: 'invalid',
    message: /__proto__/,
  },
  {
    name: 'mutate set without a value',
    frame: (rid) => json({ rid, type: 'mutate', service: 'notes', id: 'n1', ops: [{ op: 'set', path: 'title' }] }),
    hasRid: true,
    code: 'invalid',
    message: /value/,
  },
  {
    name: 'mutate with a dangling backslash in the path',
    frame: (rid) => json({ rid, type: 'mutate', service: 'notes', id: 'n1', ops: [{ op: 'remove', path: 'a\\' }] }),
    hasRid: true,
    code: 'invalid',
    message: /path/,
  },
  {
    name: 'mutate with 1001 ops',
    frame: (rid) => json({ rid, type: 'mutate', service: 'notes', id: 'n1', ops: Array.from({ length: 1001 }, () => ({ op: 'increment', path: 'count' })) }),
    hasRid: true,
    code: 'invalid',
    message: /ops/,
  },
  { name: 'subscribe with a bad topic', frame: (rid) => json({ rid, type: 'subscribe', sub: 'sub_1', topic: 'sync..notes*' }), hasRid: true, code: 'invalid', message: /topic/ },
  {
    name: 'subscribe with a bad returnMode',
    frame: (rid) => json({ rid, type: 'subscribe', sub: 'sub_1', topic: 'sync.notes.*', returnMode: 'partial' }),
    hasRid: true,
    code: 'invalid',
    message: /returnMode/,
  },
  {
    name: 'subscribe with a filter of object values',
    frame: (rid) => json({ rid, type: 'subscribe', sub: 'sub_1', topic: 'sync.notes.*', filter: { status: { $ne: 'done' } } }),
    hasRid: true,
    code: 'invalid',
    message: /filter/,
  },
  { name: 'subscribe with a bad sub id', frame: (rid) => json({ rid, type: 'subscribe', sub: 'sub 1', topic: 'sync.notes.*' }), hasRid: true, code: 'invalid', message: /sub/ },
  { name: 'unsubscribe without sub', frame: (rid) => json({ rid, type: 'unsubscribe' }), hasRid: true, code: 'invalid', message: /sub/ },
  { name: 'catchup since -1', frame: (rid) => json({ rid, type: 'catchup', service: 'notes', id: 'n1', since: -1 }), hasRid: true, code: 'invalid', message: /since/ },
  { name: 'catchup since 1.5', frame: (rid) => json({ rid, type: 'catchup', service: 'notes', id: 'n1', since: 1.5 }), hasRid: true, code: 'invalid', message: /since/ },
  {
    name: 'depth 40 nesting in data',
    frame: (rid) => `{"rid":${rid},"type":"create","service":"notes","data":${nested(40)}}`,
    hasRid: true,
    code: 'invalid',
    message: /deeper|depth|levels/,
  },
  {
    name: 'depth 40 nesting in a mutate value',
    frame: (rid) => `{"rid":${rid},"type":"mutate","service":"notes","id":"n1","ops":[{"op":"set","path":"a","value":${nested(40)}}]}`,
    hasRid: true,
    code: 'invalid',
    message: /deeper|depth|levels/,
  },
  {
    name: 'depth 100000 nesting in data (stack exhaustion attempt)',
    frame: (rid) => `{"rid":${rid},"type":"create","service":"notes","data":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
    hasRid: true,
    code: 'invalid',
    message: /deeper|depth|levels/,
  },
  {
    name: 'data over the 256 KiB document limit',
    frame: (rid) => json({ rid, type: 'create', service: 'notes', id: TOO_BIG_ID, data: { blob: OVER_DOCUMENT } }),
    hasRid: true,
    code: 'too_large',
  },
  {
    name: 'frame far over the limit, rid first',
    frame: (rid) => json({ rid, type: 'create', service: 'notes', data: { blob: OVER_GUARD } }),
    hasRid: true,
    code: 'too_large',
  },
  {
    // The order RealtimeClient serializes requests in: `{ ...message, rid }`.
    name: 'frame far over the limit, rid last',
    frame: (rid) => json({ type: 'create', service: 'notes', data: { blob: OVER_GUARD }, rid }),
    hasRid: true,
    code: 'too_large',
  },
  {
    name: 'frame far over the limit with rid 0',
    frame: () => json({ rid: 0, type: 'create', service: 'notes', data: { blob: OVER_GUARD } }),
    hasRid: false,
    code: 'invalid', // no usable rid: the frame is refused as malformed before its size matters
  },
  {
    name: 'frame far over the limit with rid 2.5',
    frame: () => json({ rid: 2.5, type: 'create', service: 'notes', data: { blob: OVER_GUARD } }),
    hasRid: false,
    code: 'invalid', // no usable rid: the frame is refused as malformed before its size matters
  },
];

describe.each(STORES)('relay survives malformed frames (%s)', (kind) => {
  const logLines: string[] = [];
  let relay: Relay;
  let socket: RawSocket;

  beforeAll(async () => {
    relay = await startRelay(kind, { log: (line) => logLines.push(line) });
    socket = await RawSocket.open(relay);
    const welcome = await socket.next(REPLY_TIMEOUT_MS, 'the welcome frame');
    expect(welcome).toMatchObject({ type: 'welcome', protocol: 3 });
  });
  afterAll(() => socket?.close());

  it('covers at least 20 distinct kinds of malformed frame', () => {
    expect(FRAMES.length).toBeGreaterThanOrEqual(20);
    expect(new Set(FRAMES.map((f) => f.name)).size).toBe(FRAMES.length);
  });

  it.each(FRAMES.map((f, i) => ({ ...f, rid: 100 + i })))('$name: one $code error reply', async ({ name, frame, hasRid, code, message, rid }) => {
    const reply = await socket.request(frame(rid), name);
    expectError(reply, hasRid ? rid : null, code, message);
    await socket.barrier(9000 + rid);
  });

  it('keeps serving the same socket: create then get succeed', async () => {
    expect(socket.closed).toBeUndefined();
    const created = expectResult(
      await socket.request(json({ rid: 1, type: 'create', service: 'notes', id: 'after_malformed', data: { title: 'still here', n: 1 } }), 'create'),
      1,
    );
    expect(created).toMatchObject({ service: 'notes', id: 'after_malformed', revision: 1, data: { title: 'still here', n: 1 } });
    const got = expectResult(await socket.request(json({ rid: 2, type: 'get', service: 'notes', id: 'after_malformed' }), 'get'), 2);
    expect(got).toMatchObject({ revision: 1, data: { title: 'still here', n: 1 } });
    // The oversized create wrote nothing (the Redis script writes first, then checks and undoes).
    expectError(await socket.request(json({ rid: 3, type: 'get', service: 'notes', id: TOO_BIG_ID }), 'get of the refused document'), 3, 'not_found');
    await socket.barrier(4);
  });

  it('serves a second connection', async () => {
    const client = await opened(connect(relay));
    const got = await client.sync.get('notes', 'after_malformed');
    expect(got.data).toEqual({ title: 'still here', n: 1 });
    const doc = await client.sync.create('notes', { from: 'second connection' });
    expect(doc.revision).toBe(1);
    // And a second raw socket gets its welcome and answers.
    const other = await RawSocket.open(relay);
    try {
      expect(await other.next(REPLY_TIMEOUT_MS, 'the welcome frame')).toMatchObject({ type: 'welcome' });
      await other.barrier(1);
    } finally {
      other.close();
    }
  });

  it('survives a frame over the WebSocket payload cap on another connection', async () => {
    // ws refuses frames over maxPayload (4 x the document limit, at least 1 MiB) by closing that
    // connection with 1009 before the session sees them; the relay itself must carry on.
    const victim = await RawSocket.open(relay);
    await victim.next(REPLY_TIMEOUT_MS, 'the welcome frame');
    victim.send(json({ rid: 1, type: 'create', service: 'notes', data: { blob: 'z'.repeat(1_200_000) } }));
    const outcome = await victim.next(REPLY_TIMEOUT_MS, 'a reply or the close').catch(() => undefined);
    if (outcome) expectError(outcome, 1, 'too_large');
    else expect(victim.closed?.code).toBe(1009);
    victim.close();
    await socket.barrier(5);
    expect(relay.connections).toBeGreaterThanOrEqual(1);
  });

  it('logged no internal error', () => {
    expect(logLines.filter((line) => line.includes('internal error'))).toEqual([]);
  });
});

describe.each(STORES)('oversized and overflowing writes (%s)', (kind) => {
  it('answers an oversized create from RealtimeClient with too_large, not a timeout', async () => {
    // RealtimeClient puts `rid` last in its frames; a frame over the relay's pre-parse guard is
    // answered with rid null, which the client cannot match, so the call only times out.
    const relay = await startRelay(kind);
    const client = await opened(connect(relay, { requestTimeout: 3000 }));
    const err = await client.sync.create('notes', { blob: OVER_GUARD }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'SyncError', code: 'too_large', status: 413 });
  });

  it('refuses an increment that overflows to Infinity: invalid, all or nothing, no internal error', async () => {
    const logLines: string[] = [];
    const relay = await startRelay(kind, { log: (line) => logLines.push(line) });
    const socket = await RawSocket.open(relay);
    try {
      await socket.next(REPLY_TIMEOUT_MS, 'the welcome frame');
      expectResult(await socket.request(json({ rid: 1, type: 'create', service: 'notes', id: 'big', data: { n: 1.7e308, keep: 1 } }), 'create'), 1);
      const frame = json({
        rid: 2,
        type: 'mutate',
        service: 'notes',
        id: 'big',
        ops: [
          { op: 'set', path: 'x', value: 5 },
          { op: 'set', path: 'p.q', value: 1 },
          { op: 'increment', path: 'n', value: 1.7e308 },
        ],
      });
      const reply = await socket.request(frame, 'overflowing mutate');
      const got = expectResult(await socket.request(json({ rid: 3, type: 'get', service: 'notes', id: 'big' }), 'get'), 3);
      expect({ reply, got: { revision: got.revision, data: got.data }, internalErrors: logLines.filter((l) => l.includes('internal error')).length }).toEqual({
        reply: { type: 'error', rid: 2, error: { status: 400, code: 'invalid', message: expect.stringMatching(/.+/) as unknown } },
        got: { revision: 1, data: { n: 1.7e308, keep: 1 } },
        internalErrors: 0,
      });
    } finally {
      socket.close();
    }
  });
});
