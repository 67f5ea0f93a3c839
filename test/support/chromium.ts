/**
 * Debian's Chromium, headless, driven by playwright-core, on a closed network: never a downloaded
 * browser. Missing, the browser tests skip with a warning, except under CI, where they fail.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ci = ['1', 'true'].includes((process.env.CI ?? '').toLowerCase());
export const chromiumPresent = existsSync(CHROMIUM);

if (!chromiumPresent && ci) {
  throw new Error(`Chromium not found at ${CHROMIUM}: CI must install it (apt-get install chromium).`);
}

/** Says once per test file why its browser tests are skipped. */
export function warnIfMissing(what: string) {
  if (!chromiumPresent)
    console.warn(`\n  ${what} skipped: no Chromium at ${CHROMIUM}. Install it with "apt-get install chromium" or set CHROMIUM_PATH.\n`);
}

/** Flags for a closed network: no background calls home, no QUIC, no GPU. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Requests to any origin but `allowed`, and errors thrown in the page. */
  outside: string[];
  pageErrors: string[];
  close(): Promise<void>;
}

/** A fresh profile in a temporary folder, one page, and a record of what it reached outside `allowed`. */
export async function openBrowser(allowed: string[]): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const page = context.pages()[0] ?? (await context.newPage());
  const outside: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!allowed.some((origin) => url.startsWith(origin)) && !/^(data|blob):/.test(url)) outside.push(url);
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // What the page's Content-Security-Policy blocked is no exception, only a console error.
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('Content Security Policy')) pageErrors.push(message.text());
  });
  return {
    context,
    page,
    outside,
    pageErrors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
