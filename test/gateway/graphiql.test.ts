import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';

let h: Harness;
let page: string;

beforeAll(async () => {
  h = await startHarness();
  page = await (await fetch(h.url, { headers: { accept: 'text/html' } })).text();
});
afterAll(() => h.close());

/** What the page hands to its start script: the workers' paths and GraphiQL's options. */
const settingsOf = (html: string) =>
  JSON.parse(/<script type="application\/json" id="graphiql-settings">(.*?)<\/script>/.exec(html)![1]!) as {
    workers: Record<string, string>;
    options: Record<string, string>;
  };

const assetUrls = () => [...page.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => new URL(match[1]!, h.url));

describe('GraphiQL page', () => {
  it('is served by the gateway with every asset local, none from a CDN', () => {
    expect(page).toContain('<title>HstockPlus gateway</title>');
    expect(page).toContain('"subscriptionsProtocol":"WS"');
    // Only the tour's example link names another origin, as text in the editor; nothing is loaded from one.
    expect(page.replace(/<script type="application\/json".*?<\/script>/, '')).not.toMatch(/https?:\/\//);
    expect(assetUrls().map((url) => url.pathname.replace(/[0-9a-f]{12}/, 'HASH'))).toEqual([
      '/graphiql/HASH/favicon.ico',
      '/graphiql/HASH/graphiql.css',
      '/graphiql/HASH/yoga-graphiql.js',
      '/graphiql/HASH/start.js',
    ]);
  });

  it('cannot be framed by another site, runs no inline script and no script from elsewhere', async () => {
    const response = await fetch(h.url, { headers: { accept: 'text/html' } });
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy.split('; ').find((directive) => directive.startsWith('script-src'))).toBe("script-src 'self'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    // Every script element loads a file of the gateway's; the one without src is data, never run.
    const scripts = [...page.matchAll(/<script([^>]*)>/g)].map((match) => match[1]!);
    expect(scripts.filter((attributes) => !attributes.includes('src='))).toEqual([' type="application/json" id="graphiql-settings"']);
    for (const url of assetUrls()) {
      const asset = await request(url);
      expect(asset.headers['x-content-type-options']).toBe('nosniff');
      await asset.body.dump();
    }
  });

  it('serves each asset with immutable caching, gzipped when asked', async () => {
    for (const url of assetUrls()) {
      const plain = await request(url);
      const body = Buffer.from(await plain.body.arrayBuffer());
      expect(plain.statusCode).toBe(200);
      expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(Number(plain.headers['content-length'])).toBe(body.length);

      const zipped = await request(url, { headers: { 'accept-encoding': 'gzip' } });
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(Buffer.from(await zipped.body.arrayBuffer())).equals(body)).toBe(true);
    }
  });

  it('refuses gzip to a client that says q=0', async () => {
    const response = await request(assetUrls()[1]!, { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
    expect(response.headers['content-encoding']).toBeUndefined();
    await response.body.dump();
  });

  it('works at /graphql/ too: the relative asset links resolve there', async () => {
    const base = h.url.replace(/\/graphql$/, '/graphql/');
    const response = await fetch(base, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('yoga-graphiql.js');
    for (const [, path] of html.matchAll(/(?:href|src)="([^"]+)"/g)) {
      const asset = await request(new URL(path!, base));
      expect(asset.statusCode).toBe(200);
      await asset.body.dump();
    }
  });

  it('serves the Monaco workers the page names, and 404 for another version or file', async () => {
    const { workers } = settingsOf(page);
    expect(Object.keys(workers).sort()).toEqual(['editorWorkerService', 'graphql', 'json']);
    for (const path of Object.values(workers)) {
      const response = await request(new URL(path, h.url));
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
      await response.body.dump();
    }
    const css = assetUrls()[1]!;
    for (const path of [css.pathname.replace(/[0-9a-f]{12}/, '000000000000'), css.pathname.replace('graphiql.css', 'secret.js')]) {
      const response = await request(new URL(path, h.url));
      expect(response.statusCode).toBe(404);
      await response.body.dump();
    }
  });
});

describe('GraphiQL tour', () => {
  /** The options the page hands to GraphiQL, as a gateway in the given mode renders them. */
  async function options(config: Parameters<typeof startHarness>[0]) {
    const gateway = await startHarness(config);
    try {
      const html = await (await fetch(gateway.url, { headers: { accept: 'text/html' } })).text();
      return settingsOf(html).options;
    } finally {
      await gateway.close();
    }
  }

  it('opens on a commented tour query, with the headers tab filled in for a supplier key in pass-through mode', async () => {
    const passThrough = await options({});
    expect(passThrough.defaultQuery).toMatch(/^# Welcome to the HstockPlus gateway\./);
    expect(passThrough.defaultQuery).toContain('YOUR_SUPPLIER_KEY');
    expect(passThrough.defaultQuery).toContain('query Tour {');
    expect(JSON.parse(passThrough.headers!)).toEqual({ Authorization: 'Bearer YOUR_SUPPLIER_KEY' });
    expect(passThrough.defaultEditorToolsVisibility).toBe('headers');
  });

  it('asks for a gateway token in server-key mode, and for nothing when anonymous callers are allowed', async () => {
    const tokens = await options({ config: { serverKey: DEMO_KEY, gatewayTokens: ['shop:s3cret'] } });
    expect(JSON.parse(tokens.headers!)).toEqual({ Authorization: 'Bearer YOUR_GATEWAY_TOKEN' });
    expect(tokens.defaultQuery).toContain('YOUR_GATEWAY_TOKEN');

    const anonymous = await options({ config: { serverKey: DEMO_KEY, allowAnonymous: true } });
    expect(anonymous.headers).toBeUndefined();
    expect(anonymous.defaultQuery).toContain('No key is needed here');
  });

  it('runs the tour query as it stands', async () => {
    const query = (await options({})).defaultQuery!;
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as { data?: { services: { totalCount: number }; smsCountries: unknown[] }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data!.services.totalCount).toBeGreaterThan(0);
    expect(body.data!.smsCountries.length).toBeGreaterThan(0);
  });
});
