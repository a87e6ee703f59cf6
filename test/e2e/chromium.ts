/**
 * Debian's Chromium, driven by playwright-core (never a downloaded browser). Installed with apt
 * when missing and running as root; otherwise the error names the package to install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Makes sure `/usr/bin/chromium` exists, installing Debian's package as root when it does not. */
export function ensureChromium(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  if (existsSync(CHROMIUM)) return;
  const root = process.getuid?.() === 0;
  if (!root) {
    throw new Error(`the e2e tests need Debian's chromium at ${CHROMIUM}: install it with "sudo apt-get install chromium"`);
  }
  log('syncdoc e2e: installing Debian\'s chromium with apt-get (first run only) ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is missing`);
}

/** Starts headless Chromium with the flags this sandbox needs (no sandbox, GPU or background traffic). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
