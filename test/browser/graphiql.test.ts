/**
 * GraphiQL in a real browser: Debian's Chromium, headless, driven by playwright-core. The page must
 * load with no outside network (every asset from the gateway), run a query over HTTP and show a
 * live orderStatus subscription over WebSocket as the sandbox moves the order along.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KEY, type Harness, startHarness } from '../harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const ci = ['1', 'true'].includes((process.env.CI ?? '').toLowerCase());
if (!present && ci) {
  throw new Error(`Chromium not found at ${CHROMIUM}: CI must install it (apt-get install chromium).`);
}
if (!present) {
  console.warn(`\n  GraphiQL browser test skipped: no Chromium at ${CHROMIUM}. Install it with "apt-get install chromium" or set CHROMIUM_PATH.\n`);
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

describe.skipIf(!present)('GraphiQL in Chromium', () => {
  let h: Harness;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  const outside: string[] = [];
  const pageErrors: string[] = [];
  const sockets: string[] = [];

  beforeAll(async () => {
    // The configuration `npm start` uses on the sandbox: a server key and anonymous callers.
    h = await startHarness({ config: { serverKey: DEMO_KEY, allowAnonymous: true, orderPollMs: 50, orderPollMaxMs: 200 } });
    profile = await mkdtemp(join(tmpdir(), 'graphiql-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    page = browser.pages()[0] ?? (await browser.newPage());
    const origin = new URL(h.url).origin;
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(origin) && !/^(data|blob):/.test(url)) outside.push(url);
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('websocket', (socket) => sockets.push(socket.url()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await h?.close();
  });

  /** Opens GraphiQL with `query` in the editor, runs it and returns the response pane. */
  async function run(query: string) {
    await page.goto(`${h.url}?query=${encodeURIComponent(query)}`);
    await page.locator('.graphiql-execute-button').click();
    return page.locator('.graphiql-response');
  }

  it('opens on the tour, which runs as it stands with no header in this mode', async () => {
    await page.goto(h.url);
    // Monaco draws the text with no-break spaces.
    const editor = async () => (await page.locator('.graphiql-query-editor .view-lines').innerText()).replace(/\u00a0/g, ' ');
    await expect.poll(editor, { timeout: 15_000 }).toContain('Welcome to the HstockPlus gateway');
    // The response pane draws only its first lines: read the whole answer off the wire.
    const answer = page.waitForResponse((response) => response.request().method() === 'POST' && (response.request().postData() ?? '').includes('query Tour'));
    await page.locator('.graphiql-execute-button').click();
    const body = (await (await answer).json()) as { data?: { services: { totalCount: number }; smsCountries: unknown[] }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data!.services.totalCount).toBeGreaterThan(0);
    expect(body.data!.smsCountries.length).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.graphiql-response').innerText(), { timeout: 15_000 }).toContain('"balance"');
    expect(outside).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('runs a query over HTTP', async () => {
    const response = await run('{ balance { amount currency } }');
    await expect.poll(() => response.innerText(), { timeout: 15_000 }).toContain('1000.00');
    expect(outside).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('shows an orderStatus subscription update as the order moves', async () => {
    const id = await h.placeOrder({ key: null });

    const response = await run(`subscription { orderStatus(id: "${id}") { id status isFinal } }`);
    await expect.poll(() => response.innerText(), { timeout: 15_000 }).toContain('PENDING');
    h.sandbox.advance(45);
    await expect.poll(() => response.innerText(), { timeout: 15_000 }).toContain('IN_PROGRESS');
    h.sandbox.advance(7200);
    await expect.poll(() => response.innerText(), { timeout: 15_000 }).toContain('COMPLETED');
    expect(sockets).toEqual([h.url.replace(/^http/, 'ws')]);
    expect(outside).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 30_000);
});
