/**
 * The Redis driver: documents are RedisJSON values, every write is one Lua script (see
 * lua/write-*.lua), and events reach the relays that have subscribers through Redis pub/sub on separate publish
 * (command) and subscribe connections.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import {
  type CatchUpResult,
  type JsonObject,
  type MutationOp,
  type SyncDocument,
  type SyncErrorCode,
  SyncError,
  generateIncarnation,
  isPathAddressable,
  parsePath,
} from '../../src/protocol/index.js';
import { documentFromText } from './document-text.js';
import { notFound, usedByDelete } from './memory.js';
import { catchUpFrom, documentAt } from './replay.js';
import { documentKeys, eventChannel } from './redis-keys.js';
import { TRANSIENT, UNKNOWN_OUTCOME_LIMIT_MS, WriteOutcomes, relayMutationIds } from './redis-outcome.js';
import { type RawChange, diffOfChange, toChangeRecord } from './redis-records.js';
import { storeEvent } from './store-event.js';
import { type CatchUpOptions, DEFAULT_STORE_SETTINGS, type Store, type StoreEvent, type StoreSettings, type WriteOptions } from './types.js';

/** How to reach Redis and where to keep keys. */
export interface RedisStoreOptions extends Partial<StoreSettings> {
  /** A `redis://` URL or ioredis options. The server must have the RedisJSON module. */
  redis: string | RedisOptions;
  /** Prefix of every key and of the event channel. Default `syncdoc:`. */
  keyPrefix?: string;
  /** Called with lines worth logging (lost connections, bad pub/sub messages). */
  log?: (line: string) => void;
  /**
   * How long a write that Redis may have applied before it failed is resent (with its mutation
   * id, once Redis is back) before it is answered `timeout`, in ms. Default 10 000; at most half
   * of `mutationIdTtlSeconds`, so a resent id is still remembered.
   */
  unknownOutcomeLimitMs?: number;
}

const lua = (name: string) => readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'lua', `${name}.lua`), 'utf8');

type ScriptReply = [1, string, string, string, string, string] | [2, string] | [0, string, string, number];
/** The operation name and its own script arguments. */
export type WriteArgs = [op: string, ...rest: string[]];

interface ScriptedRedis extends Redis {
  syncdocWrite(...keysThenArgv: string[]): Promise<ScriptReply>;
  syncdocMerge(...keysThenArgv: string[]): Promise<ScriptReply>;
}

/** What the write script needs to know about the relay. */
export interface ScriptSetup {
  prefix: string;
  instance: string;
  settings: StoreSettings;
}

/**
 * The {@link WRITE_SCRIPT_KEYS} KEYS and the ARGV of one call of a write script (lua/write-begin.lua), in the script's order (see its
 * header). `args` is the operation and its own arguments. `opts.incarnation` is, for a create,
 * the new document's incarnation, and for the other writes the one the write insists on.
 */
export function writeScriptArgs(setup: ScriptSetup, service: string, id: string, opts: WriteOptions, args: WriteArgs): string[] {
  const keys = documentKeys(setup.prefix, service, id);
  const mid = opts.mutationId ?? '';
  return [
    keys.data,
    keys.log,
    keys.mutation(mid),
    keys.head,
    args[0],
    service,
    id,
    opts.expectedRevision === undefined ? '' : String(opts.expectedRevision),
    mid,
    setup.instance,
    eventChannel(setup.prefix),
    String(setup.settings.changeLogSize),
    String(setup.settings.mutationIdTtlSeconds),
    String(setup.settings.maxDocumentBytes),
    opts.incarnation ?? '',
    ...args.slice(1),
  ];
}

/** How many of {@link writeScriptArgs}' strings are KEYS: data, log, mutation-id memo, head. */
export const WRITE_SCRIPT_KEYS = 4;

/** A write script: the shared beginning and end around one kind of change (see lua/write-begin.lua). */
const writeScript = (change: string) => lua('write-begin') + lua(change) + lua('write-finish');
/** The script for any write. */
export const WRITE_SCRIPT = writeScript('write-change');
/** The script for a merge whose top-level keys are all path-addressable (the common write). */
export const MERGE_SCRIPT = writeScript('merge-change');

/**
 * Runs one Redis call and gives its failures the codes callers expect: Redis refusing a
 * command is a server fault (`internal`); a transient refusal, or anything else (connection
 * lost, retries used up), means Redis cannot serve it now (`unavailable`, 503), which a client
 * may retry. Writes reach here only with failures that certainly left them unapplied: the others
 * are retried, or answered `timeout`, by {@link WriteOutcomes}.
 */
async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SyncError) throw err;
    if (err instanceof ReplyError && !TRANSIENT.test((err as Error).message)) {
      throw new SyncError('internal', `Redis refused the command: ${(err as Error).message}`);
    }
    throw new SyncError('unavailable', `Redis is unreachable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** How long the relay stays subscribed to events after its last subscriber left. */
const LISTEN_GRACE_MS = 2000;

/** The message shown when the server lacks RedisJSON: it says what to install. */
export const REDISJSON_MISSING =
  'the Redis server has no RedisJSON module. syncdoc stores documents with RedisJSON: run Redis Stack ' +
  '(e.g. the redis/redis-stack-server image) or Redis 8 with its modules, or load rejson.so with --loadmodule';

/**
 * Throws unless the server behind `redis` has the RedisJSON module: MODULE LIST names ReJSON,
 * or, where MODULE is not allowed (some hosted Redis), a JSON.* command is known.
 */
export async function assertRedisJson(redis: Redis): Promise<void> {
  const modules = (await redis.call('MODULE', 'LIST').catch(() => [])) as unknown[];
  const names = modules.map((m) => (Array.isArray(m) ? String(m[m.indexOf('name') + 1]) : '').toLowerCase());
  if (names.includes('rejson')) return;
  const probe = await redis.call('JSON.TYPE', '__syncdoc_probe__').then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  if (probe === undefined) return;
  throw new Error(/unknown command/i.test(probe) ? REDISJSON_MISSING : `cannot check for RedisJSON: ${probe}`);
}

/** Connects to Redis, checks for RedisJSON and returns the store. */
export async function createRedisStore(options: RedisStoreOptions): Promise<Store> {
  const settings = { ...DEFAULT_STORE_SETTINGS, ...stripUndefined(options) };
  // A write resent with its mutation id must still find that id remembered, or it runs twice:
  // the resend window is at most half of how long ids are remembered.
  const outcomeLimitMs = Math.min(options.unknownOutcomeLimitMs ?? UNKNOWN_OUTCOME_LIMIT_MS, (settings.mutationIdTtlSeconds * 1000) / 2);
  // The instance id names this relay's connections (CLIENT LIST) and tags what it publishes.
  const instance = randomBytes(6).toString('hex');
  // No auto-pipelining: ioredis keeps one auto-pipeline in flight per connection, so while Redis
  // ran one batch of scripts the next batch waited in the relay and the two took turns instead
  // of overlapping (bench 1: about 12,000 writes/s with it, 18,000 without).
  const base: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: false, connectionName: `syncdoc:${instance}:cmd` };
  const cmd = (typeof options.redis === 'string' ? new Redis(options.redis, base) : new Redis({ ...base, ...options.redis })) as ScriptedRedis;
  const sub = cmd.duplicate({ enableAutoPipelining: false, connectionName: `syncdoc:${instance}:sub` });
  // ioredis reports connection trouble as 'error' events (printed as "Unhandled error event"
  // when nobody listens). Keep the first cause for the start-up message, then log changes.
  let cause: string | undefined;
  const log = options.log ?? (() => {});
  let lastLogged = '';
  for (const conn of [cmd, sub]) {
    conn.on('error', (err: Error) => {
      cause ??= err.message;
      if (err.message !== lastLogged) log(`redis: ${(lastLogged = err.message)}`);
    });
  }
  try {
    await cmd.connect();
    await assertRedisJson(cmd);
    await sub.connect();
  } catch (err) {
    cmd.disconnect();
    sub.disconnect();
    const own = err instanceof Error ? err.message : String(err);
    const message = cause && own !== REDISJSON_MISSING ? cause : own;
    throw new Error(`syncdoc: cannot use Redis at ${describeTarget(options.redis)}: ${message}`, { cause: err });
  }
  cmd.defineCommand('syncdocWrite', { numberOfKeys: WRITE_SCRIPT_KEYS, lua: WRITE_SCRIPT });
  cmd.defineCommand('syncdocMerge', { numberOfKeys: WRITE_SCRIPT_KEYS, lua: MERGE_SCRIPT });
  return new RedisStore(instance, cmd, sub, options.keyPrefix ?? 'syncdoc:', settings, log, outcomeLimitMs);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function describeTarget(redis: string | RedisOptions): string {
  if (typeof redis === 'string') return redis.replace(/\/\/[^@/]*@/, '//***@');
  return `${redis.host ?? '127.0.0.1'}:${redis.port ?? 6379}`;
}

class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly durable = true;
  private listener: (event: StoreEvent) => void = () => {};
  private readonly channel: string;
  /** Retries the write scripts whose outcome a Redis failure left unknown. */
  private readonly outcomes: WriteOutcomes;
  /** Mutation ids for writes sent without one: a write is only retried safely with one. */
  private readonly newMutationId: () => string;
  /** What the write script needs, for writes with the client's mutation id. */
  private readonly clientSetup: ScriptSetup;
  /**
   * The same for writes with the relay's own id: remembered for twice the resend window (at
   * least a minute), not the client ids' hour, which would cost Redis a key per write for an hour.
   */
  private readonly relaySetup: ScriptSetup;

  constructor(
    /** Identifies this relay's connections and its messages on the shared channel. */
    readonly instance: string,
    private readonly cmd: ScriptedRedis,
    private readonly sub: Redis,
    private readonly prefix: string,
    private readonly settings: StoreSettings,
    private readonly log: (line: string) => void,
    unknownOutcomeLimitMs = UNKNOWN_OUTCOME_LIMIT_MS,
  ) {
    this.channel = eventChannel(prefix);
    this.outcomes = new WriteOutcomes(cmd, unknownOutcomeLimitMs);
    this.newMutationId = relayMutationIds(instance);
    this.clientSetup = { prefix, instance, settings };
    const relayTtl = Math.min(settings.mutationIdTtlSeconds, Math.max(60, Math.ceil((2 * unknownOutcomeLimitMs) / 1000)));
    this.relaySetup = { prefix, instance, settings: { ...settings, mutationIdTtlSeconds: relayTtl } };
    this.sub.on('message', (_channel: string, message: string) => this.dispatch(message));
    // ioredis resubscribes by itself after a reconnect, but what was published meanwhile is gone.
    this.sub.on('ready', () => {
      if (this.subscribed) this.gapListener();
    });
  }

  /** Resolves while the subscriber connection is subscribed (or subscribing) to the channel. */
  private subscribed: Promise<void> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private gapListener: () => void = () => {};

  /**
   * Every relay, the writer included, delivers events from its subscription to the shared
   * channel: Redis publishes in script order, so one subscriber connection sees each
   * document's revisions in order. Delivering our own writes straight from the script's reply
   * instead would race with other relays' writes arriving on this connection and could reorder
   * them. The subscription is held only while the relay has subscribers: receiving and decoding
   * every write of every relay costs Redis and this process for nothing otherwise.
   */
  listen(wanted: boolean): Promise<void> {
    if (wanted) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      if (!this.subscribed) {
        const subscribing: Promise<void> = redisCall(async () => {
          await this.sub.subscribe(this.channel);
        }).catch((err: unknown) => {
          // Only this attempt is forgotten: a newer one may have started since.
          if (this.subscribed === subscribing) this.subscribed = undefined;
          throw err;
        });
        this.subscribed = subscribing;
      }
      return this.subscribed;
    }
    if (this.subscribed && !this.idleTimer) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        this.subscribed = undefined;
        // Commands on one connection run in order: a later SUBSCRIBE lands after this.
        this.sub.unsubscribe(this.channel).catch(() => {});
      }, LISTEN_GRACE_MS);
      this.idleTimer.unref();
    }
    return Promise.resolve();
  }

  onEventGap(listener: () => void): void {
    this.gapListener = listener;
  }

  /** One published event: `instance \n metadata \n change \n data` (see lua/write-finish.lua). */
  private dispatch(message: string): void {
    const a = message.indexOf('\n');
    const b = message.indexOf('\n', a + 1);
    const c = message.indexOf('\n', b + 1);
    if (a < 0 || b < 0 || c < 0) {
      this.log(`ignored a malformed message on ${this.channel}`);
      return;
    }
    // Nothing is parsed here: the relay reads the metadata only if it has subscribers.
    const event = storeEvent({
      metadataJson: message.slice(a + 1, b),
      dataJson: message.slice(c + 1),
      diff: () => {
        const change = JSON.parse(message.slice(b + 1, c)) as Pick<RawChange, 'paths' | 'before' | 'after'>;
        return diffOfChange({ ...change, operation: event.metadata.operation });
      },
    });
    try {
      this.listener(event);
    } catch (err) {
      this.log(`could not route an event: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  onEvent(listener: (event: StoreEvent) => void): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    await Promise.allSettled([this.sub.quit(), this.cmd.quit()]);
  }

  async get(service: string, id: string): Promise<SyncDocument> {
    const { envelope } = await this.read(service, id, false);
    if (envelope.deleted) throw notFound(service, id);
    const { rev: revision, createdAt, updatedAt, incarnation } = envelope;
    return documentFromText({ service, id, revision, createdAt, updatedAt, incarnation }, envelope.dataJson);
  }

  async create(service: string, id: string, data: JsonObject, opts: Pick<WriteOptions, 'mutationId'> = {}): Promise<SyncDocument> {
    // Made here, not in the script: Lua in Redis has no source of randomness worth the name.
    return (await this.write(service, id, { mutationId: opts.mutationId, incarnation: generateIncarnation() }, ['create', JSON.stringify(data)]))!;
  }

  async replace(service: string, id: string, data: JsonObject, opts: WriteOptions = {}): Promise<SyncDocument> {
    return (await this.write(service, id, opts, ['replace', JSON.stringify(data)]))!;
  }

  async merge(service: string, id: string, patch: JsonObject, opts: WriteOptions = {}): Promise<SyncDocument> {
    const keys = Object.keys(patch);
    // Keys a JSONPath cannot name: the general script covers the whole data instead.
    if (!keys.every(isPathAddressable)) return (await this.write(service, id, opts, ['merge', JSON.stringify(patch), '-1']))!;
    return (await this.write(service, id, opts, ['merge', JSON.stringify(patch), String(keys.length), ...keys], true))!;
  }

  async mutate(service: string, id: string, ops: readonly MutationOp[], opts: WriteOptions = {}): Promise<SyncDocument> {
    const args: string[] = [String(ops.length)];
    for (const o of ops) {
      const segments = parsePath(o.path);
      args.push(o.op, String(segments.length), ...segments, o.op === 'remove' ? '' : JSON.stringify(o.value));
    }
    return (await this.write(service, id, opts, ['mutate', ...args]))!;
  }

  async delete(service: string, id: string, opts: WriteOptions = {}): Promise<void> {
    await this.write(service, id, opts, ['delete']);
  }

  async changesSince(service: string, id: string, since: number, opts: CatchUpOptions = {}): Promise<CatchUpResult> {
    const { envelope, lines } = await this.read(service, id, true);
    const { rev: revision, deleted, incarnation } = envelope;
    return catchUpFrom(
      { revision, deleted, incarnation },
      since,
      opts.incarnation,
      () => parseLog(lines, since).reverse().map(toChangeRecord),
      () => JSON.parse(envelope.dataJson) as JsonObject,
    );
  }

  /**
   * The document's head and data (and with `withLog`, its change log), in one MULTI so all are
   * of the same instant. Throws `not_found` when the document never existed.
   */
  private async read(service: string, id: string, withLog: boolean): Promise<{ envelope: Envelope; lines: string[] }> {
    const keys = documentKeys(this.prefix, service, id);
    const replies = await redisCall(async () => {
      const multi = this.cmd.multi().hmget(keys.head, 'rev', 'deleted', 'createdAt', 'updatedAt', 'inc').call('JSON.GET', keys.data);
      const r = (await (withLog ? multi.lrange(keys.log, 0, -1) : multi).exec()) ?? [];
      const failed = r.find(([err]) => err)?.[0];
      if (failed) throw failed; // mapped to a SyncError by redisCall
      return r.map(([, value]) => value);
    });
    const [head, data, lines] = replies as [Array<string | null>, string | null, string[] | undefined];
    if (head[0] === null || data === null) throw notFound(service, id);
    const envelope: Envelope = {
      rev: Number(head[0]),
      deleted: head[1] === '1',
      createdAt: Number(head[2]),
      updatedAt: Number(head[3]),
      // A head from before incarnations: named as write-begin.lua names it, from the stored text.
      incarnation: head[4] ?? `c${head[2]}`,
      dataJson: data,
    };
    return { envelope, lines: lines ?? [] };
  }

  /** The answer to a replayed write: the document at the revision it made (see replay.ts). */
  private async replayed(service: string, id: string, revision: number): Promise<SyncDocument> {
    const { envelope, lines } = await this.read(service, id, true);
    const { rev, createdAt, updatedAt, incarnation } = envelope;
    const current: SyncDocument = { service, id, revision: rev, data: JSON.parse(envelope.dataJson) as JsonObject, createdAt, updatedAt, incarnation };
    return documentAt(current, parseLog(lines, revision - 1).map(toChangeRecord), revision);
  }

  private async write(service: string, id: string, opts: WriteOptions, args: WriteArgs, merge = false): Promise<SyncDocument | undefined> {
    // Every write goes with a mutation id, the relay's own when the client sent none, so that
    // one whose reply Redis lost can be sent again without applying it twice.
    // The relay's own id is remembered only for as long as a resend may come (see relaySetup).
    const own = opts.mutationId === undefined;
    const argv = own
      ? writeScriptArgs(this.relaySetup, service, id, { ...opts, mutationId: this.newMutationId() }, args)
      : writeScriptArgs(this.clientSetup, service, id, opts, args);
    const reply = await redisCall(() => this.outcomes.write(() => (merge ? this.cmd.syncdocMerge(...argv) : this.cmd.syncdocWrite(...argv))));
    if (reply[0] === 0) {
      const [, code, message, revision] = reply;
      throw new SyncError(code as SyncErrorCode, message, code === 'conflict' ? { revision } : undefined);
    }
    if (reply[0] === 2) {
      if (reply[1] !== 'deleted') return this.replayed(service, id, Number(reply[1]));
      if (args[0] === 'delete') return undefined;
      // The id was remembered from a delete: this is not a resend of that write.
      throw usedByDelete(service, id, opts.mutationId);
    }
    const [, text, revision, createdAt, updatedAt, incarnation] = reply;
    if (text === 'null') return undefined;
    // The data is the text's last member (write-finish.lua puts it there; service, id and incarnation are plain names).
    const dataJson = text.slice(text.indexOf('"data":') + 7, -1);
    return documentFromText({ service, id, revision: Number(revision), createdAt: Number(createdAt), updatedAt: Number(updatedAt), incarnation }, dataJson, text);
  }
}

/**
 * The logged changes after revision `since`, newest first, from the log's lines (newest first).
 * Lines older than that are not parsed.
 */
function parseLog(lines: readonly string[], since: number): RawChange[] {
  const log: RawChange[] = [];
  for (const line of lines) {
    // Lines start with {"revision":N (see write-finish.lua): skip parsing what is not needed.
    const revision = Number(/^\{"revision":(\d+)/.exec(line)?.[1] ?? Number.NaN);
    if (revision <= since) break;
    log.push(JSON.parse(line) as RawChange);
  }
  return log;
}

interface Envelope {
  rev: number;
  deleted: boolean;
  createdAt: number;
  updatedAt: number;
  incarnation: string;
  /** The data as RedisJSON returned it, parsed only where needed. */
  dataJson: string;
}
