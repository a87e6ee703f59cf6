/**
 * End to end, storage across reloads: the Offline demo (each client on its own
 * `indexedDbStorage`), built as a static Storybook and driven in Debian's Chromium, against a
 * real relay on Redis with token auth, which the tests stop and start again on the same port and
 * key prefix. Writes made offline survive a reload while the relay is down and land once when it
 * is back; the writes of a closed tab are sent once, by one of the two tabs opened after it, and
 * those of a tab still open by that tab only; saved writes keep their order; and the relay's
 * answer replaces what storage showed, even when the relay is behind it (Redis restored from an
 * older copy). Every write frame the pages send is recorded (Playwright's WebSocket events), so "once" is
 * checked on the wire too, not only in the store, where the relay would hide a second send (it
 * applies a mutation id once). Screenshots of a failing test's pages go to test-results/e2e/.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, createRelay } from '../../server/index.js';
import type { TokenServer } from '../../server/dev/token-server.js';
import { SECRET } from '../helpers/auth.js';
import { deleteKeys, freshPrefix, keysUnder, redisUrl } from '../helpers/relay.js';
import { type Harness, openHarness, pageTracker, storyPageUrl } from './storybook.js';

const STORY = 'demos-offline-and-catch-up--default';
/** The IndexedDB storage of each client of the story (its `storage` names) and its database. */
const STORAGE = { A: 'offline-demo-A', B: 'offline-demo-B' } as const;
const database = (label: 'A' | 'B') => `syncdoc:${STORAGE[label]}`;
/** Relay down, a reconnecting client waits up to partysocket's 10 s between tries (tests get a minute: see TEST). */
const BACK = { timeout: 20_000, interval: 100 };
const TEST = 60_000;

// Its own build directory: stories.test.ts builds storybook-static, maybe at the same time.
const outDir = mkdtempSync(join(tmpdir(), 'syncdoc-storybook-'));
let browser: Browser;
let storybook: { url: string; close: () => Promise<void> };
let tokens: TokenServer;
const relays: RestartableRelay[] = [];
const { track, withScreenshots } = pageTracker();

let harness: Harness | undefined;

beforeAll(async () => {
  harness = await openHarness(outDir);
  ({ browser, storybook, tokens } = harness);
}, 300_000);

afterAll(async () => {
  await harness?.close();
  for (const relay of relays) await relay.stop();
  rmSync(outDir, { recursive: true, force: true });
});

/** A relay on Redis (token auth) that can be stopped and started again on the same port and key prefix. */
class RestartableRelay {
  readonly prefix = freshPrefix();
  #relay: Relay | undefined;
  #port = 0;

  /** Starts it (the first time on a free port, then on that same port). */
  async start(): Promise<this> {
    this.#relay = await createRelay({ port: this.#port, log: () => {}, redis: redisUrl(), keyPrefix: this.prefix, auth: { secret: SECRET } });
    this.#port = this.#relay.port;
    return this;
  }

  /** Stops it (every socket closed); what it wrote stays in Redis. */
  async stop(): Promise<void> {
    const relay = this.#relay;
    this.#relay = undefined;
    await relay?.close();
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The running relay (its store reads Redis). */
  get relay(): Relay {
    if (!this.#relay) throw new Error('the relay is stopped');
    return this.#relay;
  }
}

async function startRelay(): Promise<RestartableRelay> {
  const relay = new RestartableRelay();
  relays.push(relay);
  return relay.start();
}

const fresh = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const client = (page: Page, label: 'A' | 'B') => page.getByTestId(`client-${label}`);
const entries = async (page: Page, label: 'A' | 'B') => client(page, label).getByTestId('entries').locator('li').allTextContents();

/** A context of its own: its pages share IndexedDB and Web Locks (one origin), like tabs of one browser profile. */
function newContext(): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1280, height: 900 } });
}

/** A page of `context`, tracked for screenshots, whose write frames are recorded (across reloads). */
async function newPage(context: BrowserContext): Promise<{ page: Page; sent: string[] }> {
  const page = track(await context.newPage());
  return { page, sent: recordWrites(page) };
}

/** The mutation ids of the write frames `page` sends (every socket, every navigation), in order. */
function recordWrites(page: Page): string[] {
  const sent: string[] = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      let frame: unknown;
      try {
        frame = JSON.parse(String(payload));
      } catch {
        return;
      }
      const { mutationId } = frame as { mutationId?: unknown };
      if (typeof mutationId === 'string') sent.push(mutationId);
    }),
  );
  return sent;
}

function storyUrl(relay: RestartableRelay, doc: string): string {
  return storyPageUrl(storybook.url, STORY, { relay: relay.url, tokens: tokens.url, doc });
}

/** A saved write as the tests look at it: its id, its place in line, and the entry it appends. */
interface SavedWrite {
  mutationId: string;
  seq: number;
  appends: unknown;
}

/**
 * What the client of `label` keeps in IndexedDB, read in the page: the saved writes (in `seq`
 * order, as `claimWrites` returns them) and the revision of the saved document `journal/doc`.
 * A database that does not exist yet is not created by reading it (the upgrade is aborted), so
 * the page's own storage still creates its stores.
 */
async function storedWrites(page: Page, label: 'A' | 'B', doc: string): Promise<{ writes: SavedWrite[]; revision: number | undefined }> {
  return page.evaluate(
    ({ name, doc }) =>
      new Promise<{ writes: SavedWrite[]; revision: number | undefined }>((resolve, reject) => {
        const req = indexedDB.open(name);
        let fresh = false;
        req.onupgradeneeded = () => {
          fresh = true;
          req.transaction?.abort();
        };
        req.onerror = () => (fresh ? resolve({ writes: [], revision: undefined }) : reject(req.error ?? new Error('open failed')));
        req.onsuccess = () => {
          const db = req.result;
          const tx = db.transaction(['writes', 'documents'], 'readonly');
          const writes = tx.objectStore('writes').getAll();
          const saved = tx.objectStore('documents').get(['journal', doc]);
          tx.oncomplete = () => {
            db.close();
            const list = (writes.result as Array<{ mutationId: string; seq: number; ops?: Array<{ value?: unknown }> }>).sort((p, q) => p.seq - q.seq);
            resolve({
              writes: list.map((w) => ({ mutationId: w.mutationId, seq: w.seq, appends: w.ops?.[0]?.value })),
              revision: (saved.result as { revision?: number } | undefined)?.revision,
            });
          };
          tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
        };
      }),
    { name: database(label), doc },
  );
}

/** {@link storedWrites} with the writes as their mutation ids. */
async function stored(page: Page, label: 'A' | 'B', doc: string): Promise<{ writes: string[]; revision: number | undefined }> {
  const { writes, revision } = await storedWrites(page, label, doc);
  return { writes: writes.map((w) => w.mutationId), revision };
}

/** Names of the Web Locks held on the origin of `page` (every tab of its context). */
function heldLocks(page: Page): Promise<string[]> {
  return page.evaluate(async () => ((await navigator.locks.query()).held ?? []).map((lock) => lock.name ?? ''));
}

/**
 * Opens the story on `doc` in a new page of `context`, waits for client A to show revision 1,
 * takes it offline and adds `n` entries (with `pairs`, `n / 2` clicks of "Add two entries": two
 * writes each), and waits until storage holds them. Returns the page, its write frames and the
 * saved writes' mutation ids.
 */
async function writeOffline(
  context: BrowserContext,
  relay: RestartableRelay,
  doc: string,
  n: number,
  pairs = false,
): Promise<{ page: Page; sent: string[]; ids: string[] }> {
  const { page, sent } = await newPage(context);
  await page.goto(storyUrl(relay, doc));
  const a = client(page, 'A');
  await expect.poll(() => a.getByTestId('revision').textContent()).toBe('1');
  // The confirmed state is saved (at most every 250 ms) once the relay answered.
  for (const label of ['A', 'B'] as const) await expect.poll(async () => (await stored(page, label, doc)).revision, { timeout: 5000 }).toBe(1);
  await a.getByRole('button', { name: 'Go offline' }).click();
  await expect.poll(() => a.getByTestId('connection').textContent()).toBe('closed');
  if (pairs) for (let i = 0; i < n; i += 2) await a.getByRole('button', { name: 'Add two entries' }).click();
  else for (let i = 0; i < n; i++) await a.getByRole('button', { name: 'Add an entry' }).click();
  await expect.poll(() => a.getByTestId('pending').textContent()).toBe(`${n} pending`);
  await expect.poll(async () => (await stored(page, 'A', doc)).writes.length, { timeout: 5000 }).toBe(n);
  const { writes: ids } = await stored(page, 'A', doc);
  expect(sent, 'nothing is sent while offline').toEqual([]);
  return { page, sent, ids };
}

const notes = (n: number) => Array.from({ length: n }, (_, i) => `A: note ${i + 1}`);
/** Each id once, whatever the order. */
const once = (ids: readonly string[]) => [...ids].sort();

describe('storage across reloads, in a real browser', () => {
  it('writes made offline survive a reload while the relay is down, show from storage at once, and land once when it is back', async () => {
    const relay = await startRelay();
    await withScreenshots('storage-reload', async () => {
      const doc = fresh('journal');
      const { page, sent, ids } = await writeOffline(await newContext(), relay, doc, 3);
      const a = client(page, 'A');
      const b = client(page, 'B');
      expect(await entries(page, 'A')).toEqual(notes(3));

      await relay.stop();
      await expect.poll(() => b.getByTestId('connection').textContent()).not.toBe('open');
      await page.reload();
      // The relay is down: what shows can only come from storage, with the pending writes on top.
      await expect.poll(() => a.getByTestId('unconfirmed').textContent(), { timeout: 3000 }).toBe('from storage, not yet confirmed by the relay');
      await expect.poll(() => a.getByTestId('pending').textContent(), { timeout: 3000 }).toBe('3 pending');
      expect(await a.getByTestId('revision').textContent()).toBe('1');
      expect(await entries(page, 'A')).toEqual(notes(3));
      expect(await a.getByTestId('connection').textContent()).not.toBe('open');
      // B had no pending writes: its journal shows from its own storage, unconfirmed too.
      await expect.poll(() => b.getByTestId('unconfirmed').count()).toBe(1);
      expect(await b.getByTestId('revision').textContent()).toBe('1');
      expect(await b.getByTestId('pending').textContent()).toBe('0 pending');
      expect(await entries(page, 'B')).toEqual([]);

      await relay.start(); // same port, same key prefix
      await expect.poll(() => a.getByTestId('connection').textContent(), BACK).toBe('open');
      await expect.poll(() => a.getByTestId('pending').textContent(), BACK).toBe('0 pending');
      await expect.poll(() => a.getByTestId('unconfirmed').count(), BACK).toBe(0);
      await expect.poll(() => b.getByTestId('unconfirmed').count(), BACK).toBe(0);
      await expect.poll(() => a.getByTestId('revision').textContent(), BACK).toBe('4');
      await expect.poll(() => b.getByTestId('revision').textContent(), BACK).toBe('4');

      // Each entry once in the store, and the page shows exactly what the relay has.
      const inStore = await relay.relay.store.get('journal', doc);
      expect(inStore).toMatchObject({ revision: 4, data: { entries: notes(3) } });
      expect(await entries(page, 'A')).toEqual(notes(3));
      expect(await entries(page, 'B')).toEqual(notes(3));
      // On the wire: the saved writes, each sent once, with the ids the page before gave them.
      expect(once(sent)).toEqual(once(ids));
      // Storage forgot the writes and keeps the relay's state.
      await expect.poll(async () => await stored(page, 'A', doc), { timeout: 5000 }).toEqual({ writes: [], revision: 4 });
    });
  }, TEST);

  it('two tabs opened at once on one storage: the writes a closed tab left are sent once, by one of them', async () => {
    const relay = await startRelay();
    await withScreenshots('storage-two-tabs', async () => {
      const doc = fresh('journal');
      const context = await newContext();
      const first = await writeOffline(context, relay, doc, 3);
      await first.page.close();

      // Another page of the origin (any document of it, not a story), to watch the locks.
      const watcher = track(await context.newPage());
      await watcher.goto(`${storybook.url}/index.json`);
      // The closed tab's owner locks went with it: its writes are free to claim.
      await expect.poll(async () => (await heldLocks(watcher)).filter((name) => name.startsWith('syncdoc:offline-demo-')), { timeout: 5000 }).toEqual([]);

      const tabs = await Promise.all([newPage(context), newPage(context)]);
      await Promise.all(tabs.map(({ page }) => page.goto(storyUrl(relay, doc))));
      for (const { page } of tabs) {
        await expect.poll(() => client(page, 'A').getByTestId('revision').textContent(), BACK).toBe('4');
        await expect.poll(() => client(page, 'A').getByTestId('pending').textContent(), BACK).toBe('0 pending');
        await expect.poll(() => client(page, 'B').getByTestId('revision').textContent(), BACK).toBe('4');
        expect(await client(page, 'A').getByTestId('unconfirmed').count()).toBe(0);
      }

      expect(await relay.relay.store.get('journal', doc)).toMatchObject({ revision: 4, data: { entries: notes(3) } });
      for (const { page } of tabs) expect(await entries(page, 'A')).toEqual(notes(3));
      // On the wire: every saved write sent once in all, by one tab or the other; none twice.
      const sent = tabs.flatMap((t) => t.sent);
      expect(once(sent)).toEqual(once(first.ids));
      expect(first.sent).toEqual([]);
      await expect.poll(async () => (await stored(tabs[0]!.page, 'A', doc)).writes, { timeout: 5000 }).toEqual([]);
    });
  }, TEST);

  it('writes keep their order across a reload, also two made in one click', async () => {
    const relay = await startRelay();
    await withScreenshots('storage-order', async () => {
      const doc = fresh('journal');
      const { page } = await writeOffline(await newContext(), relay, doc, 6, true);
      expect(await entries(page, 'A')).toEqual(notes(6)); // shown in the order made
      const saved = (await storedWrites(page, 'A', doc)).writes;
      // Saved writes are sent in `seq` order: each write needs a place of its own in that line.
      expect.soft(new Set(saved.map((w) => w.seq)).size, `seqs ${saved.map((w) => w.seq).join(', ')}`).toBe(saved.length);
      expect.soft(saved.map((w) => w.appends)).toEqual(notes(6));

      await page.reload(); // the relay is up: the saved writes go out at once
      const a = client(page, 'A');
      await expect.poll(() => a.getByTestId('pending').textContent(), BACK).toBe('0 pending');
      await expect.poll(() => a.getByTestId('revision').textContent(), BACK).toBe('7');
      expect((await relay.relay.store.get('journal', doc)).data).toEqual({ entries: notes(6) });
      expect(await entries(page, 'A')).toEqual(notes(6));
    });
  }, TEST);

  it("a tab that is still open keeps its writes: another tab opened meanwhile never sends them, and they land once when it is back", async () => {
    const relay = await startRelay();
    await withScreenshots('storage-live-tab', async () => {
      const doc = fresh('journal');
      const context = await newContext();
      const first = await writeOffline(context, relay, doc, 2);
      const second = await newPage(context);
      await second.page.goto(storyUrl(relay, doc));
      const a2 = client(second.page, 'A');
      await expect.poll(() => a2.getByTestId('connection').textContent()).toBe('open');
      await expect.poll(() => a2.getByTestId('revision').textContent()).toBe('1');
      // Long enough for a claim and its sends, had the second tab taken the first one's writes.
      await second.page.waitForTimeout(1000);
      expect(await a2.getByTestId('pending').textContent()).toBe('0 pending');
      expect(second.sent).toEqual([]);
      expect((await relay.relay.store.get('journal', doc)).revision).toBe(1);
      expect((await stored(second.page, 'A', doc)).writes).toEqual(first.ids); // still saved, still the first tab's

      await client(first.page, 'A').getByRole('button', { name: 'Go online' }).click();
      await expect.poll(() => client(first.page, 'A').getByTestId('pending').textContent(), BACK).toBe('0 pending');
      await expect.poll(() => a2.getByTestId('revision').textContent(), BACK).toBe('3');
      expect(await entries(second.page, 'A')).toEqual(notes(2));
      expect(await relay.relay.store.get('journal', doc)).toMatchObject({ revision: 3, data: { entries: notes(2) } });
      expect(once(first.sent)).toEqual(once(first.ids));
      expect(second.sent).toEqual([]);
    });
  }, TEST);

  // Fails on src as of 24af579: a snapshot from the relay older than the state shown from
  // storage is ignored (reduce in src/core/document-state.ts), so the page keeps showing
  // revision 4, "not yet confirmed", forever. The fix proposed: over a state from storage,
  // the relay's word applies whatever its revision.
  it("a relay whose Redis went back in time (restored from an older copy): its answer replaces what storage showed", async () => {
    const relay = await startRelay();
    const redis = new Redis(redisUrl());
    try {
      await withScreenshots('storage-older-relay', async () => {
        const doc = fresh('journal');
        const { page } = await newPage(await newContext());
        await page.goto(storyUrl(relay, doc));
        const a = client(page, 'A');
        await expect.poll(() => a.getByTestId('revision').textContent()).toBe('1');
        await a.getByRole('button', { name: 'Add an entry' }).click();
        await expect.poll(() => a.getByTestId('revision').textContent()).toBe('2');
        // A copy of every key of this relay at revision 2, as a backup would hold it.
        const backup = await dumpKeys(redis, relay.prefix);
        await a.getByRole('button', { name: 'Add an entry' }).click();
        await a.getByRole('button', { name: 'Add an entry' }).click();
        await expect.poll(() => a.getByTestId('revision').textContent()).toBe('4');
        await expect.poll(async () => (await stored(page, 'A', doc)).revision, { timeout: 5000 }).toBe(4);

        // Redis is restored from the copy while the relay is down: the journal is back at
        // revision 2, same incarnation. The page reloads meanwhile, so it shows from storage first.
        await relay.stop();
        await deleteKeys(redis, relay.prefix);
        for (const [key, value] of backup) await redis.restore(key, 0, value);
        await page.reload();
        await expect.poll(() => a.getByTestId('unconfirmed').count(), { timeout: 3000 }).toBe(1);
        expect(await a.getByTestId('revision').textContent()).toBe('4');
        await relay.start();
        expect(await relay.relay.store.get('journal', doc)).toMatchObject({ revision: 2, data: { entries: notes(1) } });
        await expect.poll(() => a.getByTestId('connection').textContent(), BACK).toBe('open');
        // What the relay has, not what storage kept; and confirmed.
        await expect.poll(() => a.getByTestId('revision').textContent(), BACK).toBe('2');
        await expect.poll(() => a.getByTestId('unconfirmed').count(), BACK).toBe(0);
        expect(await entries(page, 'A')).toEqual(notes(1));
      });
    } finally {
      redis.disconnect();
    }
  }, TEST);
});

/** Every key under `prefix` (only those) as DUMP gives it, to RESTORE later. */
async function dumpKeys(redis: Redis, prefix: string): Promise<Array<[string, Buffer]>> {
  const dumped: Array<[string, Buffer]> = [];
  for (const key of await keysUnder(redis, prefix)) {
    const value = await redis.dumpBuffer(key);
    if (value) dumped.push([key, value]);
  }
  return dumped;
}
