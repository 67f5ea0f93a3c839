/**
 * GraphiQL in a real browser: Debian's Chromium, headless, driven by playwright-core. The page must
 * load with no outside network (every asset from the gateway), run a query over HTTP and show a
 * live orderStatus subscription over WebSocket as the sandbox moves the order along.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPresent, openBrowser, warnIfMissing, type Browser } from '../support/chromium.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';

warnIfMissing('GraphiQL browser test');

describe.skipIf(!chromiumPresent)('GraphiQL in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let outside: string[];
  let pageErrors: string[];
  const sockets: string[] = [];

  beforeAll(async () => {
    // The configuration `npm start` uses on the sandbox: a server key and anonymous callers.
    h = await startHarness({ config: { serverKey: DEMO_KEY, allowAnonymous: true, orderPollMs: 50, orderPollMaxMs: 200 } });
    browser = await openBrowser([new URL(h.url).origin]);
    ({ page, outside, pageErrors } = browser);
    page.on('websocket', (socket) => sockets.push(socket.url()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
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
    const answer = page.waitForResponse(
      (response) => response.request().method() === 'POST' && (response.request().postData() ?? '').includes('query Tour'),
    );
    await page.locator('.graphiql-execute-button').click();
    const body = (await (await answer).json()) as {
      data?: { services: { totalCount: number }; smsCountries: unknown[] };
      errors?: unknown;
    };
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
