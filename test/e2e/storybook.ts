/**
 * What the browser tests share: the static Storybook, built by the test file itself (so it always
 * shows the current stories), the URL of a story's page, and screenshots of a test's pages when
 * it fails.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { type TokenServer, startTokenServer } from '../../server/dev/token-server.js';
import { SECRET } from '../helpers/auth.js';
import { ensureChromium, launchChromium } from './chromium.js';
import { serveStatic } from './static-server.js';

/** Where failing tests leave screenshots of their pages. */
export const RESULTS = 'test-results/e2e';

/**
 * Builds the static Storybook into `outDir`. Each test file builds its own (another file may be
 * building at the same time, in another worker), so give each file a directory of its own.
 */
export function buildStorybook(outDir: string): void {
  execFileSync('npx', ['storybook', 'build', '-c', 'stories/.storybook', '-o', outDir, '--quiet'], { stdio: 'pipe' });
}

/** What a browser test file runs against: its Storybook served locally, the dev token endpoint, Chromium. */
export interface Harness {
  storybook: { url: string; close: () => Promise<void> };
  tokens: TokenServer;
  browser: Browser;
  /** Closes all three. */
  close(): Promise<void>;
}

/** Builds the Storybook into `outDir`, serves it, and starts the token endpoint and Chromium. */
export async function openHarness(outDir: string): Promise<Harness> {
  ensureChromium();
  buildStorybook(outDir);
  const storybook = await serveStatic(outDir);
  const tokens = await startTokenServer({ secret: SECRET, port: 0 });
  const browser = await launchChromium();
  mkdirSync(RESULTS, { recursive: true });
  return {
    storybook,
    tokens,
    browser,
    close: async () => {
      await browser.close();
      await storybook.close();
      await tokens.close();
    },
  };
}

/** A story's page (the bare iframe, no Storybook UI) with `params` in its query (relay, tokens, doc). */
export function storyPageUrl(storybookUrl: string, storyId: string, params: Record<string, string>): string {
  const query = new URLSearchParams({ id: storyId, viewMode: 'story', ...params });
  return `${storybookUrl}/iframe.html?${query}`;
}

/** The pages of the running test: screenshot when it fails, closed (with their contexts) when it ends. */
export function pageTracker(dir: string = RESULTS): {
  track: (page: Page) => Page;
  withScreenshots: (name: string, body: () => Promise<void>) => Promise<void>;
} {
  const pages: Page[] = [];
  return {
    track(page) {
      pages.push(page);
      return page;
    },
    /** Runs a test body; on failure, screenshots every page it opened (those still open), then fails. */
    async withScreenshots(name, body) {
      const first = pages.length;
      try {
        await body();
      } catch (err) {
        for (const [i, page] of pages.slice(first).entries()) {
          await page.screenshot({ path: `${dir}/${name}-page${i + 1}.png`, fullPage: true }).catch(() => {});
        }
        throw err;
      } finally {
        for (const page of pages.splice(first)) await page.context().close();
      }
    },
  };
}
