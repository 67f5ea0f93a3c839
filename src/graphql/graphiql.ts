/**
 * GraphiQL served entirely by the gateway. Yoga's default page loads the editor from a CDN, which a
 * machine without internet access cannot reach; here the script, styles, Monaco workers and icon
 * come from the installed @graphql-yoga/render-graphiql package. They are loaded on the first visit
 * (about 9 MB, kept in memory), served under a content hash with immutable caching, and gzipped
 * once for clients that accept it.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

const gzipAsync = promisify(gzip);

interface Asset {
  body: Buffer;
  type: string;
  gzipped?: Promise<Buffer>;
}

interface Assets {
  /** Content hash: part of every asset path, so a new version is never served from a stale cache. */
  version: string;
  files: Map<string, Asset>;
}

/** Monaco asks for a worker by label; these are the labels GraphiQL uses. */
const WORKERS = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' } as const;

/** The page links its assets relative to itself, so they arrive under whatever prefix it was served at. */
const ASSET_PATH = /\/graphiql\/([0-9a-f]{12})\/([\w.-]+)$/;

/** Whether the client takes gzip (and has not refused it with q=0). */
const acceptsGzip = (header: string | null) =>
  (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
    return (coding === 'gzip' || coding === 'x-gzip') && (q === undefined || Number(q) > 0);
  });

/**
 * What the page runs once the bundle is loaded, served as a file of its own so that the page has
 * no inline script and its Content-Security-Policy allows scripts from the gateway only. Its
 * settings come from a JSON data block, which is never executed.
 */
const START = `const settings = JSON.parse(document.getElementById('graphiql-settings').textContent);
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: (_moduleId, label) => new URL(settings.workers[label] ?? settings.workers.editorWorkerService, location.href).href,
};
YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), settings.options);
`;

/**
 * What the page may do: scripts, workers and connections to the gateway only (WebSocket included),
 * the inline styles and data: images and fonts the editor makes, no plugins, no framing by
 * any other site, and no form posted anywhere.
 */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers for the page: its policy, no framing (for browsers without frame-ancestors), no sniffing, no referrer. */
const PAGE_HEADERS = {
  'content-security-policy': PAGE_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

let loading: Promise<Assets> | undefined;

function loadAssets(): Promise<Assets> {
  loading ??= import('@graphql-yoga/render-graphiql/graphiql').then((bundle) => {
    const script = 'text/javascript; charset=utf-8';
    const files = new Map<string, Asset>([
      ['start.js', { body: Buffer.from(START), type: script }],
      ['yoga-graphiql.js', { body: Buffer.from(bundle.js), type: script }],
      ['graphiql.css', { body: Buffer.from(bundle.css), type: 'text/css; charset=utf-8' }],
      [WORKERS.editorWorkerService, { body: Buffer.from(bundle.editorWorkerService), type: script }],
      [WORKERS.json, { body: Buffer.from(bundle.jsonWorker), type: script }],
      [WORKERS.graphql, { body: Buffer.from(bundle.graphqlWorker), type: script }],
      ['favicon.ico', { body: Buffer.from(bundle.favicon.replace(/^data:[^,]*;base64,/, ''), 'base64'), type: 'image/x-icon' }],
    ]);
    const hash = createHash('sha256');
    for (const [name, asset] of files) hash.update(name).update(asset.body);
    return { version: hash.digest('hex').slice(0, 12), files };
  });
  loading.catch(() => (loading = undefined)); // a failed load is tried again on the next visit
  return loading;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

/** JSON that is safe inside a <script> element (no `</script>` or `<!--` can close it early). */
const scriptJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

/**
 * The page for Yoga's `renderGraphiQL`. Asset URLs are relative to the GraphQL endpoint's folder,
 * so the page also works behind a proxy that mounts the gateway under a path prefix.
 */
export async function renderGraphiQL(options: GraphiQLOptions): Promise<string> {
  const { version } = await loadAssets();
  const base = `graphiql/${version}/`;
  const workers = Object.fromEntries(Object.entries(WORKERS).map(([label, file]) => [label, base + file]));
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
    <link rel="icon" href="${base}favicon.ico">
    <link rel="stylesheet" href="${base}graphiql.css">
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-settings">${scriptJson({ workers, options })}</script>
    <script src="${base}yoga-graphiql.js"></script>
    <script src="${base}start.js"></script>
  </body>
</html>
`;
}

/** Serves GET /graphiql/<hash>/<file>, and gives the page its security headers; anything else passes through to Yoga. */
export function useGraphiQLAssets(): Plugin {
  return {
    onResponse({ response }) {
      if (!response.headers.get('content-type')?.startsWith('text/html')) return;
      for (const [name, value] of Object.entries(PAGE_HEADERS)) response.headers.set(name, value);
    },
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const match = ASSET_PATH.exec(url.pathname);
      if (!match || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      const { version, files } = await loadAssets();
      const asset = match[1] === version ? files.get(match[2]!) : undefined;
      if (!asset) {
        endResponse(new fetchAPI.Response('Not found', { status: 404, headers: { 'content-type': 'text/plain' } }));
        return;
      }
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'cache-control': 'public, max-age=31536000, immutable',
        vary: 'accept-encoding',
        'x-content-type-options': 'nosniff',
      };
      let body = asset.body;
      if (acceptsGzip(request.headers.get('accept-encoding'))) {
        asset.gzipped ??= gzipAsync(asset.body);
        body = await asset.gzipped;
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = String(body.length);
      endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers }));
    },
  };
}
