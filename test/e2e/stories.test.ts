/**
 * End to end in a real browser: the built static Storybook, served locally, against a real
 * relay on Redis with RedisJSON and token auth (tokens from the dev token endpoint, as with
 * `npm start`), driven in Debian's Chromium. Each test saves a screenshot of its pages when it
 * fails (test-results/e2e/).
 */
import { readFileSync, copyFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../server/index.js';
import { type TokenServer, startTokenServer } from '../../server/dev/token-server.js';
import { SECRET } from '../helpers/auth.js';
import { startRelay } from '../helpers/relay.js';
import { type Harness, RESULTS, openHarness, pageTracker, storyPageUrl } from './storybook.js';

let browser: Browser;
let storybook: { url: string; close: () => Promise<void> };
let relay: Relay;
let tokens: TokenServer;
const { track, withScreenshots } = pageTracker();

let harness: Harness | undefined;

beforeAll(async () => {
  // The static Storybook is built by the test itself, so it always shows the current stories.
  harness = await openHarness(`${process.cwd()}/storybook-static`);
  ({ browser, storybook, tokens } = harness);
  relay = await startRelay('redis', { auth: { secret: SECRET } });
}, 300_000);

afterAll(() => harness?.close());

/** A story's page URL, with the test relay, its token endpoint (unless told another) and a document id. */
function storyUrl(storyId: string, doc: string, tokenUrl = tokens.url): string {
  return storyPageUrl(storybook.url, storyId, { relay: relay.url, tokens: tokenUrl, doc });
}

/** Opens a story in its own page (own browser context: nothing shared, like two users). */
async function openStory(storyId: string, doc: string, tokenUrl?: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = track(await context.newPage());
  await page.goto(storyUrl(storyId, doc, tokenUrl));
  return page;
}

const fresh = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const client = (page: Page, label: 'A' | 'B') => page.getByTestId(`client-${label}`);

describe('demos in a real browser', () => {
  it('session dashboard: an edit in one page appears in another page', async () => {
    await withScreenshots('session', async () => {
      const doc = fresh('session');
      const one = await openStory('demos-session-dashboard--default', doc);
      const two = await openStory('demos-session-dashboard--default', doc);
      await expect.poll(() => client(one, 'A').getByTestId('participants').textContent()).toBe('0');
      await expect.poll(() => client(two, 'B').getByTestId('participants').textContent()).toBe('0');
      await client(one, 'A').getByRole('button', { name: 'Join' }).click();
      await client(one, 'A').getByRole('button', { name: 'Join' }).click();
      await expect.poll(() => client(two, 'B').getByTestId('participants').textContent()).toBe('2');
      await client(two, 'A').getByTestId('notes').fill('hello from page two');
      await expect.poll(() => client(one, 'B').getByTestId('notes').inputValue()).toBe('hello from page two');
      await client(one, 'B').getByRole('button', { name: 'End session' }).click();
      await expect.poll(() => client(two, 'A').getByTestId('session-status').textContent()).toBe('ended');
      await one.screenshot({ path: `${RESULTS}/session-dashboard.png` });
      if (process.env.UPDATE_SCREENSHOTS) copyFileSync(`${RESULTS}/session-dashboard.png`, 'stories/screenshot.png');
    });
  });

  it('conflict demo: a stale replace shows, is refused and rolls back; the update retries and lands', async () => {
    await withScreenshots('conflicts', async () => {
      const page = await openStory('demos-conflicts-and-rollback--default', fresh('counter'));
      const a = client(page, 'A');
      const b = client(page, 'B');
      await expect.poll(() => b.getByTestId('value').textContent()).toBe('0');
      await b.getByRole('button', { name: 'Go offline' }).click();
      await expect.poll(() => b.getByTestId('connection').textContent()).toBe('closed');
      await a.getByRole('button', { name: '+1 (update)' }).click();
      await expect.poll(() => a.getByTestId('revision').textContent()).toBe('2');
      await b.getByRole('button', { name: '+1 (update)' }).click();
      await expect.poll(() => b.getByTestId('value').textContent()).toBe('1'); // optimistic, on stale r1
      await b.getByRole('button', { name: /Set to 100/ }).click();
      await expect.poll(() => b.getByTestId('value').textContent()).toBe('100'); // optimistic
      await expect.poll(() => b.getByTestId('pending').textContent()).toBe('2 pending');
      await b.getByRole('button', { name: 'Go online' }).click();
      await expect.poll(() => b.getByTestId('log').textContent()).toMatch(/conflict — rolled back/);
      await expect.poll(() => b.getByTestId('log').textContent()).toMatch(/update \+1: landed at revision 3/);
      await expect.poll(() => b.getByTestId('value').textContent()).toBe('2');
      await expect.poll(() => a.getByTestId('value').textContent()).toBe('2');
      await expect.poll(() => b.getByTestId('sync-devtools').textContent()).toMatch(/rollback: replace/);
      await expect.poll(() => b.getByTestId('sync-devtools').textContent()).toMatch(/retry: update .*conflict/);
    });
  });

  it('offline demo: the offline client flushes its queue once and both converge', async () => {
    await withScreenshots('offline', async () => {
      const page = await openStory('demos-offline-and-catch-up--default', fresh('journal'));
      const a = client(page, 'A');
      const b = client(page, 'B');
      await expect.poll(() => a.getByTestId('revision').textContent()).toBe('1');
      await a.getByRole('button', { name: 'Go offline' }).click();
      await expect.poll(() => a.getByTestId('connection').textContent()).toBe('closed');
      await a.getByRole('button', { name: 'Add an entry' }).click();
      await a.getByRole('button', { name: 'Add an entry' }).click();
      await b.getByRole('button', { name: 'Add an entry' }).click();
      await expect.poll(() => a.getByTestId('pending').textContent()).toBe('2 pending');
      await expect.poll(() => b.getByTestId('revision').textContent()).toBe('2');
      await a.getByRole('button', { name: 'Go online' }).click();
      await expect.poll(() => a.getByTestId('pending').textContent()).toBe('0 pending');
      await expect.poll(() => a.getByTestId('revision').textContent()).toBe('4');
      await expect.poll(() => b.getByTestId('revision').textContent()).toBe('4');
      const entries = async (side: typeof a) => (await side.getByTestId('entries').locator('li').allTextContents()).sort();
      expect(await entries(a)).toEqual(['A: note 1', 'A: note 2', 'B: note 1']);
      expect(await entries(b)).toEqual(await entries(a));
    });
  });

  it("permissions demo: the writer edits and the reader follows; the reader's edits show, are refused (forbidden) and roll back", async () => {
    await withScreenshots('permissions', async () => {
      const doc = fresh('note');
      const page = await openStory('demos-permissions--default', doc);
      const writer = page.getByTestId('client-writer');
      const reader = page.getByTestId('client-reader');
      await expect.poll(() => reader.getByTestId('grants').textContent()).toBe('Token grants permissions:read');
      await expect.poll(() => reader.getByTestId('title').inputValue()).toBe('Hello'); // created by the writer
      await writer.getByTestId('title').fill('Written by alice');
      await expect.poll(() => reader.getByTestId('title').inputValue()).toBe('Written by alice');
      await expect.poll(() => reader.getByTestId('revision').textContent()).toBe('2');

      // Offline first, so the optimistic value can be seen before the relay refuses it.
      await reader.getByRole('button', { name: 'Go offline' }).click();
      await expect.poll(() => reader.getByTestId('connection').textContent()).toBe('closed');
      await reader.getByTestId('title').fill('Written by bob');
      await expect.poll(() => reader.getByTestId('title').inputValue()).toBe('Written by bob');
      await expect.poll(() => reader.getByTestId('pending').textContent()).toBe('1 pending');
      await reader.getByRole('button', { name: 'Go online' }).click();
      await expect
        .poll(() => reader.getByTestId('refusal').textContent())
        .toBe(`refused: forbidden: this token has no "write" right on permissions/${doc}`);
      await expect.poll(() => reader.getByTestId('title').inputValue()).toBe('Written by alice');
      await expect.poll(() => reader.getByTestId('pending').textContent()).toBe('0 pending');
      await expect.poll(() => reader.getByTestId('sync-devtools').textContent()).toMatch(/merge \S+: forbidden/);

      // Online: the +1 is refused and rolls back too; the writer's +1 reaches the reader.
      await reader.getByRole('button', { name: '+1 like' }).click();
      await expect.poll(() => reader.getByTestId('sync-devtools').textContent()).toMatch(/mutate \S+: forbidden/);
      await writer.getByRole('button', { name: '+1 like' }).click();
      await expect.poll(() => reader.getByTestId('likes').textContent()).toBe('1');
      expect(await writer.getByTestId('refusal').count()).toBe(0);

      const stored = await relay.store.get('permissions', doc);
      expect(stored).toMatchObject({ revision: 3, data: { title: 'Written by alice', likes: 1 } });
      expect(relay.refusals.forbidden).toBeGreaterThanOrEqual(2);
    });
  });

  it('a token the relay refuses: the client stops and its connection bar says why', async () => {
    // An endpoint signing with another secret: its tokens do not verify on the test relay.
    const wrong = await startTokenServer({ secret: 'not-the-relay-secret-but-32-bytes-long', port: 0 });
    try {
      await withScreenshots('refused-token', async () => {
        const page = await openStory('demos-conflicts-and-rollback--default', fresh('counter'), wrong.url);
        const a = client(page, 'A');
        await expect.poll(() => a.getByTestId('connection').textContent()).toBe('closed');
        await expect.poll(() => a.getByTestId('connection-error').textContent()).toBe("refused: the token's signature does not verify");
      });
    } finally {
      await wrong.close();
    }
  });

  it('every story renders without console errors', async () => {
    const index = JSON.parse(readFileSync('storybook-static/index.json', 'utf8')) as { entries: Record<string, { id: string; type: string }> };
    const stories = Object.values(index.entries).filter((e) => e.type === 'story');
    expect(stories.length).toBeGreaterThanOrEqual(6);
    for (const story of stories) {
      await withScreenshots(`render-${story.id}`, async () => {
        const errors: string[] = [];
        const context = await browser.newContext();
        const page = track(await context.newPage());
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(storyUrl(story.id, fresh('render')));
        await expect.poll(() => page.getByTestId('connection').first().textContent()).toBe('open');
        await page.waitForTimeout(300); // let the first load settle, so its errors would show
        expect(errors, story.id).toEqual([]);
      });
    }
  });
});
