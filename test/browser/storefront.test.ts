/**
 * The reference storefront (examples/storefront) in headless Chromium against the gateway on the
 * sandbox: it is built as its README says, browses the catalogue, places one order however often
 * the button is clicked, shows it live until it completes, and lists the caller's placed orders.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPresent, ci, openBrowser, warnIfMissing, type Browser } from '../support/chromium.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { listen } from '../support/ports.ts';

const STOREFRONT = join(import.meta.dirname, '../../examples/storefront');
const installed = existsSync(join(STOREFRONT, 'node_modules/.package-lock.json'));
if (!installed && ci)
  throw new Error('examples/storefront has no node_modules: `npm test` installs them first (scripts/storefront-deps.mjs).');
if (!installed)
  console.warn(
    '\n  Storefront browser test skipped: run `node scripts/storefront-deps.mjs` (npm test does) to install its dependencies.\n',
  );
warnIfMissing('Storefront browser test');

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** Serves the built storefront, as any static host would. */
function serveStatic(root: string): Server {
  const server = createServer((request, response) => {
    const path = normalize(new URL(request.url ?? '/', 'http://x').pathname).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path === '/' ? 'index.html' : path);
    readFile(file).then(
      (body) => response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  return server;
}

describe.skipIf(!chromiumPresent || !installed)('the storefront in Chromium', () => {
  let h: Harness;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    // Its own build: codegen from schema.graphql, the TypeScript check, then Vite.
    await promisify(execFile)('npm', ['run', 'build'], { cwd: STOREFRONT });
    // What `npm start` runs on the sandbox: a server key and anonymous callers.
    h = await startHarness({ config: { serverKey: DEMO_KEY, allowAnonymous: true, orderPollMs: 50, orderPollMaxMs: 200 } });
    site = serveStatic(join(STOREFRONT, 'dist'));
    siteUrl = `${await listen(site)}/`;
    browser = await openBrowser([siteUrl, new URL(h.url).origin]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    site?.close();
    await h?.close();
  });

  it('browses, places one order for two clicks, shows it live until COMPLETED, and lists it', async () => {
    const { page } = browser;
    await page.goto(`${siteUrl}?gateway=${encodeURIComponent(h.url)}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#error').innerText()).toBe('');
    expect(await page.locator('#balance').innerText()).toBe('1000.00 USD');
    expect(await page.locator('#services tbody tr').count()).toBe(10);
    expect(await page.locator('#category option').count()).toBeGreaterThan(5);

    h.sandbox.resetStats();
    await page.locator('#services tbody tr').first().getByRole('button', { name: 'Order' }).click();
    const submit = page.getByRole('button', { name: 'Place order' });
    await Promise.all([submit.click(), submit.click()]);

    const status = page.locator('#live-status');
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe('PENDING');
    const id = await page.locator('#live-id').innerText();
    expect(h.calls('add')).toBe(1);
    h.sandbox.advance(45);
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe('IN_PROGRESS');
    h.sandbox.advance(7200);
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe('COMPLETED');

    const placed = page.locator('#placed tbody tr');
    await expect
      .poll(() => placed.allInnerTexts(), { timeout: 15_000 })
      .toEqual([expect.stringMatching(new RegExp(`^${id}\\s+1001\\s+50\\s+COMPLETED`))]);
    expect(await placed.first().getAttribute('data-key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.calls('add')).toBe(1);
    expect(browser.outside).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  }, 60_000);

  it('says an order may exist when the answer was lost, lists it as unconfirmed, and a second click places nothing more', async () => {
    const { page } = browser;
    await page.goto(`${siteUrl}?gateway=${encodeURIComponent(h.url)}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 15_000 });
    await page.locator('#services tbody tr').nth(1).getByRole('button', { name: 'Order' }).click();
    h.sandbox.resetStats();
    h.sandbox.setFaults({ dropRate: 1, actions: ['add'], count: 1 });

    const submit = page.getByRole('button', { name: 'Place order' });
    await submit.click();
    const error = page.locator('#error');
    await expect.poll(() => error.innerText(), { timeout: 15_000 }).toMatch(/may have been placed\. Placing it again is safe/);
    await expect.poll(() => page.locator('#placed tbody tr').first().innerText(), { timeout: 15_000 }).toMatch(/UNCONFIRMED/);

    await error.evaluate((box) => (box.textContent = ''));
    await submit.click();
    await expect.poll(() => error.innerText(), { timeout: 15_000 }).toMatch(/may have been placed/);
    expect(h.calls('add')).toBe(1);
    expect(browser.pageErrors).toEqual([]);
  }, 30_000);

  it('runs the Apollo Client set-up of the README: a query over HTTP, a subscription over WebSocket until COMPLETED', async () => {
    const { page } = browser;
    const id = await h.placeOrder({ key: null });
    await page.goto(`${siteUrl}apollo.html?${new URLSearchParams({ gateway: h.url, order: id })}`);
    await expect.poll(() => page.locator('#balance').innerText(), { timeout: 15_000 }).toMatch(/^\d+\.\d+ USD$/);
    const statuses = page.locator('#statuses');
    await expect.poll(() => statuses.innerText(), { timeout: 15_000 }).toBe('PENDING');
    h.sandbox.advance(45);
    await expect.poll(() => statuses.innerText(), { timeout: 15_000 }).toBe('PENDING IN_PROGRESS');
    h.sandbox.advance(7200);
    await expect.poll(() => statuses.innerText(), { timeout: 15_000 }).toBe('PENDING IN_PROGRESS COMPLETED');
    expect(browser.outside).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  }, 30_000);
});
