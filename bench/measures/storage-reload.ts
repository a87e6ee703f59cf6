/**
 * 15 — time from a reload to the document on screen from storage ÷ time to the first server
 * answer, in Chromium, 100 kB document.
 *
 * The page (bench/pages/storage-reload.tsx, bundled here with esbuild: React in production mode,
 * syncdoc from its TypeScript sources, minified) renders one 100 kB document (measure 6's
 * `makeDocument`, 579 items, every item a list row) through `RealtimeProvider` with
 * `indexedDbStorage` and `useSyncDocument`, against a relay (Redis store, its own process, no
 * auth) the document was created on. It is served by the e2e tests' static server and opened in
 * Debian's Chromium (playwright-core), in a browser context of its own. The first load fetches
 * the document from the relay and the cache saves it in IndexedDB; then the page is reloaded,
 * twice to warm up, and three times per round. In each reload the page records `performance.now()`
 * (ms since that navigation started) in a layout effect, so after the commit that put the
 * document in the DOM: A at the first commit with `status: 'ready'` and `unconfirmed: true` (from
 * storage), B at the first with `unconfirmed: false` (the relay's answer), both of one reload. A
 * round's A and B are the medians of its three reloads. When the relay answers before storage
 * does, the cache never shows the saved state (it stands in only until the relay's first word):
 * that reload's A is then the moment storage answered, a lower bound, and the log counts them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { ensureChromium, launchChromium } from '../../test/e2e/chromium.js';
import { serveStatic } from '../../test/e2e/static-server.js';
import type { ReloadTimes, ReloadWindow } from '../pages/storage-reload.js';
import { type Measure, fmt, median, pairedRow, sleep } from '../harness.js';
import { createDocs, freshPrefix } from '../support/docs.js';
import { start } from '../support/processes.js';
import { makeDocument } from './client-diff.js';

const PAGE = fileURLToPath(new URL('../pages/storage-reload.tsx', import.meta.url));
const SERVICE = 'bench';
const ID = 'doc_reload';
/** The IndexedDB database of the page's `indexedDbStorage('bench-reload')`. */
const DATABASE = 'syncdoc:bench-reload';
const WARMUPS = 2;
/** Reloads per round: a round's A and B are the medians of its reloads. */
const RELOADS = 3;

/** Bundles the page into `dir` (page.js, index.html). */
async function bundlePage(dir: string): Promise<void> {
  await build({
    entryPoints: [PAGE],
    outfile: join(dir, 'page.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>storage reload</title></head><body><div id="root"></div><script type="module" src="page.js"></script></body></html>\n',
  );
}

/** The revision of the document saved in the page's IndexedDB, if any (never creates the database). */
function savedRevision(page: Page): Promise<number | undefined> {
  return page.evaluate(
    ({ name, key }) =>
      new Promise<number | undefined>((resolve, reject) => {
        const req = indexedDB.open(name);
        let fresh = false;
        req.onupgradeneeded = () => {
          fresh = true;
          req.transaction?.abort();
        };
        req.onerror = () => (fresh ? resolve(undefined) : reject(req.error ?? new Error('open failed')));
        req.onsuccess = () => {
          const db = req.result;
          const get = db.transaction('documents', 'readonly').objectStore('documents').get(key);
          get.onsuccess = () => {
            db.close();
            resolve((get.result as { revision?: number } | undefined)?.revision);
          };
          get.onerror = () => reject(get.error ?? new Error('get failed'));
        };
      }),
    { name: DATABASE, key: [SERVICE, ID] },
  );
}

/** Waits for the page's relay answer on screen and storage's answer (it may come later), and returns what the page recorded. */
async function answered(page: Page): Promise<ReloadTimes> {
  await page.waitForFunction(
    () => {
      const t = (window as ReloadWindow).reloadTimes;
      return t?.relay !== undefined && (t.loadAnswered !== undefined || t.loadError !== undefined);
    },
    undefined,
    { timeout: 30_000, polling: 20 },
  );
  return page.evaluate(() => (window as ReloadWindow).reloadTimes!);
}

export const storageReload: Measure = {
  key: 'storage-reload',
  id: 15,
  async run(ctx) {
    const dir = await mkdtemp(join(tmpdir(), 'syncdoc-reload-'));
    await bundlePage(dir);
    const data = makeDocument(100 * 1024);
    const items = (data.items as unknown[]).length;
    const prefix = freshPrefix('reload');
    await createDocs(ctx.redisUrl, prefix, SERVICE, [ID], data);
    const relay = await start('servers/relay.ts', { REDIS_URL: ctx.redisUrl, KEY_PREFIX: prefix });
    const site = await serveStatic(dir);
    ensureChromium(ctx.log);
    const browser = await launchChromium();
    const as: number[] = [];
    const bs: number[] = [];
    let late = 0;
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      const url = `${site.url}/index.html?${new URLSearchParams({ relay: relay.ready.url as string, doc: ID })}`;
      // First load: nothing in storage yet; the relay's answer is saved (at most every 250 ms).
      await page.goto(url);
      const first = await answered(page);
      if (first.relayItems !== items) throw new Error(`storage-reload: the page showed ${first.relayItems} of ${items} items`);
      for (const started = Date.now(); (await savedRevision(page)) !== 1; await sleep(50)) {
        if (Date.now() - started > 10_000) throw new Error('storage-reload: the document was never saved in IndexedDB');
      }
      /** One reload: A, B, and whether the document showed from storage at all. */
      const reload = async (): Promise<{ a: number; b: number; shown: boolean; t: ReloadTimes }> => {
        await page.reload();
        const t = await answered(page);
        if (t.loadFound !== true) throw new Error(`storage-reload: storage did not have the document: ${JSON.stringify(t)}`);
        if (t.relayItems !== items || (t.storage !== undefined && t.storageItems !== items)) throw new Error(`storage-reload: ${t.storageItems} / ${t.relayItems} of ${items} items on screen`);
        if (t.relayRevision !== 1 || (t.storage !== undefined && t.storageRevision !== 1)) throw new Error(`storage-reload: revisions ${t.storageRevision} / ${t.relayRevision}, expected 1`);
        await sleep(500); // the page settles (its save of the answer is done) before the next reload
        // The relay answered before storage did: the cache never shows a saved state over the
        // relay's, so storage put nothing on screen. It could not have before it answered:
        // A is then when storage answered, a lower bound.
        return { a: t.storage ?? t.loadAnswered!, b: t.relay!, shown: t.storage !== undefined, t };
      };
      const line = (r: Awaited<ReturnType<typeof reload>>) =>
        `A ${fmt(r.a)} ms B ${fmt(r.b)} ms (storage asked at ${fmt(r.t.loadAsked!)}, answered at ${fmt(r.t.loadAnswered!)}${r.shown ? '' : ', after the relay: not shown'})`;
      for (let i = 0; i < WARMUPS; i++) ctx.log(`  storage-reload: warm-up: ${line(await reload())}`);
      for (let round = 0; round < ctx.rounds; round++) {
        const runs = [];
        for (let i = 0; i < RELOADS; i++) {
          const r = await reload();
          runs.push(r);
          if (!r.shown) late += 1;
          ctx.log(`  storage-reload: round ${round + 1}/${ctx.rounds}, reload ${i + 1}/${RELOADS}: ${line(r)}`);
        }
        as.push(median(runs.map((r) => r.a)));
        bs.push(median(runs.map((r) => r.b)));
        ctx.log(`  storage-reload: round ${round + 1}/${ctx.rounds}: A ${fmt(as.at(-1)!)} ms B ${fmt(bs.at(-1)!)} ms ratio ${fmt(as.at(-1)! / bs.at(-1)!)}`);
      }
      if (late > 0) ctx.log(`  storage-reload: in ${late} of ${ctx.rounds * RELOADS} reloads the relay answered before storage (A is then when storage answered)`);
    } finally {
      await browser.close();
      await site.close();
      await relay.stop();
      await rm(dir, { recursive: true, force: true });
    }
    return [
      pairedRow(
        {
          id: 15,
          name: 'reload: document on screen from storage ÷ first server answer on screen, Chromium, 100 kB document',
          unit: 'ms',
          target: '<= 0.5',
          note: `A page bundled with esbuild (React production build) renders a 100 kB document (${items} items, each a list row) through RealtimeProvider with indexedDbStorage and useSyncDocument, against a relay on Redis in its own process, in Debian's Chromium; after a first load that saved it, the page is reloaded ${RELOADS} times per round (after ${WARMUPS} warm-up reloads) and records performance.now() (ms since that navigation started) in a layout effect: A at the first commit with status ready and unconfirmed (from IndexedDB), B at the first commit of the relay's answer (unconfirmed false), both in the same reload; a round's A and B are the medians of its reloads. The relay is on loopback, so B has no network latency in it.`,
        },
        as,
        bs,
      ),
    ];
  },
};
