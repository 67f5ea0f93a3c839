/**
 * The reference storefront (examples/storefront) in headless Chromium, for customers who sign in at
 * the sandbox's identity provider (authorization code with PKCE) in front of a gateway that takes
 * their tokens and admits nobody else's browser: it is built as its README says, signs a customer
 * in on the provider's own page, shows no balance and no wholesale rate, places one order however
 * often the button is clicked, shows it live until it completes, and lists that customer's orders.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AddOrderDocument, CustomerCatalogueDocument, MeDocument } from '../generated/graphql.ts';
import { chromiumPresent, ci, openBrowser, warnIfMissing, type Browser } from '../support/chromium.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { startIdentity, trusting, type IdentityProvider } from '../support/identity.ts';
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

const SHOP_TOKEN = 's3cret-shop-1';
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** Serves the built storefront, as any static host would. */
function serveStatic(root: string): Server {
  const server = createServer((request, response) => {
    const path = normalize(new URL(request.url ?? '/', 'http://x').pathname).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path === '/' ? 'index.html' : path);
    readFile(file).then(
      (body) => response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found'),
    );
  });
  return server;
}

describe.skipIf(!chromiumPresent || !installed)('the storefront in Chromium, for signed-in customers', () => {
  let idp: IdentityProvider;
  let h: Harness;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;
  /** Origins the page may reach, read by openBrowser at each request: a test that starts servers of its own adds theirs. */
  const allowed: string[] = [];
  /** What the page sent the gateway: HTTP requests (address and body) and WebSocket frames. */
  const sent: string[] = [];

  const shop = (gateway = h.url, issuer = idp.issuer) => `${siteUrl}?${new URLSearchParams({ gateway, issuer })}`;
  const state = (value: 'signed-in' | 'signed-out') => browser.page.locator(`body[data-state="${value}"]`).waitFor({ timeout: 15_000 });

  /** Signs in on the provider's own page, as a customer types it, and waits to be back in the shop. */
  async function signIn(login: string) {
    const { page } = browser;
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Login').fill(login);
    await page.getByLabel('Password').fill(`${login}-demo`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await state('signed-in');
  }

  /** An order placed through the gateway with the customer's own token, as another of their devices would. */
  async function placeAs(login: string): Promise<string> {
    const { accessToken } = await idp.tokenFor(login);
    const catalogue = await h.request(CustomerCatalogueDocument, { first: 1 }, { key: accessToken });
    const service = catalogue.data!.services.edges[0]!.node;
    const input = { serviceId: service.id, quantity: service.min, link: `https://instagram.com/p/${login}` };
    const placed = await h.request(AddOrderDocument, { input }, { key: accessToken });
    if (!placed.data) throw new Error(`addOrder failed: ${JSON.stringify(placed.errors)}`);
    return placed.data.addOrder.id;
  }

  beforeAll(async () => {
    // Its own build: codegen from schema.graphql, the TypeScript check, then Vite.
    await promisify(execFile)('npm', ['run', 'build'], { cwd: STOREFRONT });
    site = serveStatic(join(STOREFRONT, 'dist'));
    siteUrl = `${await listen(site)}/`;
    idp = await startIdentity({ redirectUris: [siteUrl] });
    // A shop's backend has its gateway token; browsers have only their customers' tokens.
    h = await startHarness({
      config: {
        serverKey: DEMO_KEY,
        gatewayTokens: [`shop:${SHOP_TOKEN}`],
        jwt: trusting(idp),
        corsOrigins: [new URL(siteUrl).origin],
        orderPollMs: 50,
        orderPollMaxMs: 200,
      },
    });
    allowed.push(siteUrl, `${new URL(h.url).origin}/`, `${idp.issuer}/`);
    browser = await openBrowser(allowed);
    browser.page.on('request', (request) => {
      if (request.url().startsWith(h.url)) sent.push(`${request.url()} ${request.postData() ?? ''}`);
    });
    browser.page.on('websocket', (socket) => socket.on('framesent', ({ payload }) => sent.push(String(payload))));
  }, 120_000);

  beforeEach(async () => {
    // Each test starts as a visitor: no session in the tab, none at the provider. Cleared from a
    // page of the site that runs nothing, so that no session left in the tab is used on the way.
    await browser.page.goto(`${siteUrl}not-found`);
    await browser.page.evaluate(() => sessionStorage.clear());
    await browser.context.clearCookies();
    sent.length = 0;
  });

  afterAll(async () => {
    await browser?.close();
    site?.close();
    await h?.close();
    await idp?.close();
  });

  it('shows a visitor only the sign-in, then signs alice in on the provider’s page: her name, the catalogue, no balance and no rates', async () => {
    const { page } = browser;
    await page.goto(shop());
    await state('signed-out');
    expect(await page.locator('#shop').isHidden()).toBe(true);
    expect(sent).toEqual([]);

    await signIn('alice');
    expect(page.url()).toBe(siteUrl); // the code is out of the address bar
    expect(await page.locator('#customer').innerText()).toBe('Alice Example');
    expect(await page.locator('#spend').isHidden()).toBe(true); // no spend limit of her own
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await page.locator('#services thead th').allInnerTexts()).toEqual(['Service', 'Min–max', '']);
    expect(await page.locator('#services tbody tr').count()).toBe(10);
    expect(await page.locator('#category option').count()).toBeGreaterThan(5);
    expect(sent.join('\n')).not.toMatch(/\b(balance|rate|charge|estimatedCharge)\b/);

    // A reload keeps the tab's session.
    await page.reload();
    await state('signed-in');
    expect(await page.locator('#customer').innerText()).toBe('Alice Example');
    expect(browser.outside).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  }, 30_000);

  it('places one order for three clicks, shows it live until COMPLETED over a socket that carries her token, and lists only hers', async () => {
    const { page } = browser;
    const bobs = await placeAs('bob');
    await page.goto(shop());
    await signIn('alice');

    h.sandbox.resetStats();
    await page.locator('#services tbody tr').first().getByRole('button', { name: 'Order' }).click();
    const submit = page.getByRole('button', { name: 'Place order' });
    await Promise.all([submit.click(), submit.click()]);

    const status = page.locator('#live-status');
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe('PENDING');
    const id = await page.locator('#live-id').innerText();
    expect(h.calls('add')).toBe(1);
    // Once more after the answer: the same intent, the same key, the same order.
    const answered = page.waitForResponse((response) => (response.request().postData() ?? '').includes('StorefrontPlaceOrder'));
    await submit.click();
    expect(await (await answered).json()).toMatchObject({ data: { addOrder: { id } } });
    expect(h.calls('add')).toBe(1);
    h.sandbox.advance(45);
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe('IN_PROGRESS');
    h.sandbox.advance(7200);
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe('COMPLETED');

    const placed = page.locator('#placed tbody tr');
    await expect
      .poll(() => placed.allInnerTexts(), { timeout: 15_000 })
      .toEqual([expect.stringMatching(new RegExp(`^${id}\\s+1001\\s+50\\s+COMPLETED`))]);
    expect(id).not.toBe(bobs);
    expect(await placed.first().getAttribute('data-key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.calls('add')).toBe(1);
    expect(sent.find((frame) => frame.includes('"connection_init"'))).toMatch(/"authorization":"Bearer ey[\w-]+\.[\w-]+\.[\w-]+"/);
    expect(sent.join('\n')).not.toMatch(/\b(balance|rate|charge|estimatedCharge)\b/);
    expect(browser.outside).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  }, 30_000);

  it('says an order may exist when the answer was lost, lists it as unconfirmed, and a second click places nothing more', async () => {
    const { page } = browser;
    await page.goto(shop());
    await signIn('alice');
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

  it('signs alice out, and bob, signed in after her on the same browser, sees his orders and what he may still spend, none of hers', async () => {
    const { page } = browser;
    const [alices, bobs] = [await placeAs('alice'), await placeAs('bob')];
    await page.goto(shop());
    await signIn('alice');
    const orders = page.locator('#placed tbody tr td:first-child');
    expect(await orders.allInnerTexts()).toContain(alices);
    expect(await orders.allInnerTexts()).not.toContain(bobs);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await state('signed-out');
    expect(await page.locator('#signed-out-reason').innerText()).toBe('You are signed out.');
    expect(await page.locator('#placed tbody tr').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('storefront.session'))).toBeNull();

    // The provider still knows alice; the storefront asks for a password all the same.
    await signIn('bob');
    expect(await page.locator('#customer').innerText()).toBe('Bob Example');
    expect(await orders.allInnerTexts()).toContain(bobs);
    expect(await orders.allInnerTexts()).not.toContain(alices);
    const { data } = await h.request(MeDocument, {}, { key: (await idp.tokenFor('bob')).accessToken });
    const limit = data!.me.spendLimit!;
    expect(limit.limit).toMatch(/^14\.50?$/);
    expect(await page.locator('#spend-remaining').innerText()).toBe(`${limit.remaining} of ${limit.limit}`);
    expect(browser.outside).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  }, 30_000);

  describe('when the token expires', () => {
    let brief: IdentityProvider;
    let g: Harness;

    beforeAll(async () => {
      brief = await startIdentity({ redirectUris: [siteUrl], accessTokenTtlS: 5 });
      g = await startHarness({
        upstream: h.sandbox,
        config: { serverKey: DEMO_KEY, jwt: trusting(brief), corsOrigins: [new URL(siteUrl).origin], orderPollMs: 50, orderPollMaxMs: 200 },
      });
      allowed.push(`${new URL(g.url).origin}/`, `${brief.issuer}/`);
    });

    afterAll(async () => {
      await g?.close();
      await brief?.close();
    });

    async function expectSentToSignIn() {
      const { page } = browser;
      await state('signed-out');
      expect(await page.locator('#signed-out-reason').innerText()).toBe('Your sign-in has expired: sign in again.');
      expect(await page.locator('#shop').isHidden()).toBe(true);
      expect(await page.evaluate(() => sessionStorage.getItem('storefront.session'))).toBeNull();
      expect(browser.outside).toEqual([]);
      expect(browser.pageErrors).toEqual([]);
    }

    it('sends the customer to sign in again when it expires under a live order (the socket closes, 4403)', async () => {
      const { page } = browser;
      await page.goto(shop(g.url, brief.issuer));
      await signIn('carol');
      await page.locator('#services tbody tr').first().getByRole('button', { name: 'Order' }).click();
      await page.getByRole('button', { name: 'Place order' }).click();
      await expect.poll(() => page.locator('#live-status').innerText(), { timeout: 15_000 }).toBe('PENDING');
      // Nothing moves the order on: what ends the page's wait is the token's end.
      await expectSentToSignIn();
    }, 30_000);

    it('sends the customer to sign in again when a request answers UNAUTHENTICATED, TOKEN_EXPIRED', async () => {
      const { page } = browser;
      await page.goto(shop(g.url, brief.issuer));
      await signIn('carol');
      const { accessToken } = JSON.parse((await page.evaluate(() => sessionStorage.getItem('storefront.session')))!) as {
        accessToken: string;
      };
      await expect
        .poll(async () => (await g.request(MeDocument, {}, { key: accessToken })).errors?.[0]?.extensions, {
          timeout: 15_000,
          interval: 250,
        })
        .toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
      await page.locator('#category').selectOption({ index: 1 });
      await expectSentToSignIn();
    }, 30_000);
  });

  it('runs the Apollo Client set-up with the storefront’s sign-in: who the gateway takes her for, and her order live until COMPLETED', async () => {
    const { page } = browser;
    await page.goto(shop());
    await signIn('alice');
    const id = await placeAs('alice');
    await page.goto(`${siteUrl}apollo.html?${new URLSearchParams({ gateway: h.url, issuer: idp.issuer, order: id })}`);
    await expect.poll(() => page.locator('#caller').innerText(), { timeout: 15_000 }).toBe('customer:customer-alice');
    const statuses = page.locator('#statuses');
    await expect.poll(() => statuses.innerText(), { timeout: 15_000 }).toBe('PENDING');
    h.sandbox.advance(45);
    await expect.poll(() => statuses.innerText(), { timeout: 15_000 }).toBe('PENDING IN_PROGRESS');
    h.sandbox.advance(7200);
    await expect.poll(() => statuses.innerText(), { timeout: 15_000 }).toBe('PENDING IN_PROGRESS COMPLETED');
    expect(browser.outside).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  }, 30_000);

  it('builds no gateway token and no supplier key into the page', async () => {
    const assets = join(STOREFRONT, 'dist/assets');
    const scripts = (await readdir(assets)).filter((name) => name.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const name of scripts) {
      const text = await readFile(join(assets, name), 'utf8');
      expect(text, name).not.toContain('s3cret');
      expect(text, name).not.toContain(DEMO_KEY);
    }
  });
});
