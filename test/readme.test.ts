/**
 * Every example in the README and in docs/*.md runs as written against the gateway as `npm start`
 * runs it with nothing configured (the sandbox, its demo key, anonymous callers), or in the mode
 * its marker names. Only the port differs: the test's gateways listen on free ports. The examples
 * run in one order, the README's first, then each document under docs/ by name; the ids later
 * examples need come from the documents' own mutations before them.
 *
 * A marker is an HTML comment on the line before a block:
 * - `<!-- example: pass-through -->`, `<!-- example: server-key -->`: the gateway mode it runs in;
 * - `<!-- example: file <path> -->`: the block is that file of the repository, which runs elsewhere;
 * - `<!-- example: codegen -->`, `<!-- example: typed -->`: the quick start's client, run together;
 * - `<!-- example: not run, <why> -->`: it starts servers, installs packages or needs an account.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Kind, parse, print, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { DEMO_KEY } from './support/keys.ts';

const ROOT = join(import.meta.dirname, '..');
const STOREFRONT = join(ROOT, 'examples/storefront');
const run = promisify(execFile);

export interface Example {
  line: number;
  lang: string;
  marker?: string;
  code: string;
}

/** The fenced blocks of a Markdown text, each with the marker comment on the line before it. */
export function examples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    const marker = /^<!-- example: (.+?) -->$/.exec(lines[i - 1] ?? '')?.[1];
    found.push({ line: i + 1, lang: open[1]!, marker, code: lines.slice(i + 1, end).join('\n') + '\n' });
    i = end;
  }
  return found;
}

/** Every line of a Markdown text outside fenced code blocks, with its line number. */
function prose(markdown: string): Array<{ line: number; text: string }> {
  let fenced = false;
  return markdown.split('\n').flatMap((text, i) => {
    if (text.startsWith('```')) fenced = !fenced;
    return fenced || text.startsWith('```') ? [] : [{ line: i + 1, text }];
  });
}

/**
 * The anchors GitHub gives the headings of a Markdown text: lowercased, punctuation dropped except
 * `-` and `_`, each space a `-`; a repeated heading gets `-1`, `-2`.
 */
export function anchors(markdown: string): Set<string> {
  const times = new Map<string, number>();
  const found = new Set<string>();
  for (const { text } of prose(markdown)) {
    const heading = /^#{1,6}\s+(.+?)\s*$/.exec(text)?.[1];
    if (!heading) continue;
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}_ -]/gu, '')
      .replaceAll(' ', '-');
    const before = times.get(slug) ?? 0;
    times.set(slug, before + 1);
    found.add(before ? `${slug}-${before}` : slug);
  }
  return found;
}

/** The relative links of a Markdown text, outside code: `](path)`, `](path#anchor)`, `](#anchor)`. */
export function links(markdown: string): Array<{ line: number; target: string }> {
  const relative = (target: string) => !/^[a-z][a-z0-9+.-]*:/i.test(target);
  return prose(markdown).flatMap(({ line, text }) =>
    [...text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1]!)
      .filter(relative)
      .map((target) => ({ line, target })),
  );
}

/** The README first, then the documents under docs/ by name: the order the examples run in. */
const docs = (await readdir(join(ROOT, 'docs'))).filter((name) => name.endsWith('.md')).sort();
const DOCUMENTS = ['README.md', ...docs.map((name) => `docs/${name}`)];
const texts = new Map(await Promise.all(DOCUMENTS.map(async (file) => [file, await readFile(join(ROOT, file), 'utf8')] as const)));
const documented = DOCUMENTS.flatMap((file) =>
  examples(texts.get(file)!).map((example) => ({ ...example, at: `${file}:${example.line}` })),
);
const RUNNABLE = new Set(['graphql', 'sh', 'js', 'ts']);
const MODES = new Set(['pass-through', 'server-key']);

describe('the examples of the README and docs/', () => {
  let sandbox: Sandbox;
  const gateways: Record<string, Harness> = {};
  let work: string;
  /** Ids the documents' own mutations created, by the variable name later examples use. */
  const variables: Record<string, unknown> = {};

  beforeAll(async () => {
    sandbox = await createSandbox({ port: 0 });
    const fast = { orderPollMs: 50, orderPollMaxMs: 200, smsPollMs: 50 };
    gateways.default = await startHarness({ upstream: sandbox, config: { serverKey: DEMO_KEY, allowAnonymous: true, ...fast } });
    gateways['pass-through'] = await startHarness({ upstream: sandbox, config: fast });
    gateways['server-key'] = await startHarness({
      upstream: sandbox,
      config: { serverKey: DEMO_KEY, gatewayTokens: ['shop:s3cret-1', 'app:s3cret-2'], ...fast },
    });
    // Scripts live under node_modules so that their imports resolve to the project's packages.
    await mkdir(join(ROOT, 'node_modules/.cache'), { recursive: true });
    work = await mkdtemp(join(ROOT, 'node_modules/.cache/readme-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(Object.values(gateways).map((gateway) => gateway.close()));
    await sandbox?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The documents' addresses, moved to the test's gateway and sandbox. */
  function localize(code: string, gateway: Harness) {
    const origin = new URL(gateway.url).origin;
    return code
      .replaceAll('http://127.0.0.1:4000', origin)
      .replaceAll('ws://127.0.0.1:4000', origin.replace(/^http/, 'ws'))
      .replaceAll('http://127.0.0.1:4010/api/v2', sandbox.url);
  }

  /**
   * Runs a child process while sandbox time passes quickly (a minute every 100 ms), so that an
   * example that waits for an order to complete or a code to arrive ends in a few seconds.
   */
  async function withTimePassing<T>(work: Promise<T>): Promise<T> {
    const clock = setInterval(() => sandbox.advance(60), 100);
    try {
      return await work;
    } finally {
      clearInterval(clock);
    }
  }

  function remember(data: Record<string, unknown> | undefined) {
    const order = (data?.addOrder as { id?: string } | undefined)?.id;
    if (order) Object.assign(variables, { order, orders: [order] });
    const sms = (data?.addSmsOrder as Array<{ id: string }> | undefined)?.[0]?.id;
    if (sms) variables.smsOrder = sms;
  }

  it('has a marker on every block it does not run as is, and a reason on every one it skips', () => {
    expect(documented.length).toBeGreaterThan(15);
    for (const example of documented.filter((each) => RUNNABLE.has(each.lang) && each.marker)) {
      expect(example.marker, example.at).toMatch(/^(pass-through|server-key|codegen|typed|file \S+|not run, .{10,})$/);
    }
    const ts = documented.filter((each) => each.lang === 'ts');
    expect(
      ts.every((each) => each.marker),
      'every ts block is a file of the repository or the quick start',
    ).toBe(true);
    expect(documented.filter((each) => each.lang === 'graphql').length).toBeGreaterThanOrEqual(7);
  });

  it.each(
    documented
      .filter(
        (each) =>
          each.lang === 'graphql' ||
          (each.lang === 'js' && !each.marker?.startsWith('not run')) ||
          (each.lang === 'sh' && (!each.marker || MODES.has(each.marker))),
      )
      .map((each) => [`${each.lang} at ${each.at}`, each] as const),
  )(
    'runs the %s',
    async (_name, example) => {
      const gateway = gateways[example.marker ?? 'default']!;
      if (example.lang === 'graphql') {
        for (const operation of parse(example.code).definitions as OperationDefinitionNode[]) {
          expect(operation.kind).toBe(Kind.OPERATION_DEFINITION);
          const names = (operation.variableDefinitions ?? []).map((definition) => definition.variable.name.value);
          for (const name of names) expect(variables, `${example.at} needs $${name} from an example before it`).toHaveProperty(name);
          const response = await fetch(gateway.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: print(operation), variables: Object.fromEntries(names.map((name) => [name, variables[name]])) }),
          });
          const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
          expect(body.errors, example.at).toBeUndefined();
          remember(body.data);
        }
        return;
      }
      const script = localize(example.code, gateway);
      const file = join(work, `${example.at.replace(/\W/g, '-')}.mjs`);
      const command =
        example.lang === 'js'
          ? (await writeFile(file, script), run(process.execPath, [file], { cwd: ROOT, timeout: 30_000 }))
          : run('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, timeout: 30_000 });
      const { stdout } = await withTimePassing(command);
      expect(stdout.trim().length, `${example.at} printed nothing`).toBeGreaterThan(0);
      expect(stdout, example.at).not.toMatch(/"errors"|UNAUTHENTICATED/);
      if (/orderStatus/.test(example.code)) expect(stdout).toMatch(/COMPLETED/);
      if (/smsCode/.test(example.code)) expect(stdout).toMatch(/event: complete/);
      if (/smsCode/.test(example.code)) expect(stdout).toMatch(/"code":"\d+"/);
    },
    60_000,
  );

  it.each(documented.filter((each) => each.marker?.startsWith('file ')).map((each) => [each.marker!.slice(5), each] as const))(
    'shows %s as it is in the repository',
    async (path, example) => {
      expect(example.code).toBe(await readFile(join(ROOT, path), 'utf8'));
    },
  );

  const storefrontInstalled = existsSync(join(STOREFRONT, 'node_modules/.package-lock.json'));
  it.skipIf(!storefrontInstalled)(
    'takes a new app from nothing to a typed query: the quick start codegen, typecheck and run',
    async () => {
      const codegen = documented.find((each) => each.marker === 'codegen')!;
      const typed = documented.find((each) => each.marker === 'typed')!;
      // A new app beside the storefront, whose node_modules hold the packages the quick start installs.
      const app = await mkdtemp(join(STOREFRONT, '.readme-app-'));
      try {
        await mkdir(join(app, 'src'));
        await writeFile(join(app, 'codegen.ts'), localize(codegen.code, gateways.default!));
        await writeFile(join(app, 'src/catalogue.ts'), localize(typed.code, gateways.default!));
        const tsconfig = {
          compilerOptions: {
            target: 'ES2022',
            module: 'ESNext',
            moduleResolution: 'bundler',
            strict: true,
            skipLibCheck: true,
            noEmit: true,
            lib: ['ES2022', 'DOM'],
          },
          include: ['src'],
        };
        await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
        await writeFile(join(app, 'package.json'), JSON.stringify({ type: 'module' }));
        const bin = (name: string) => join(STOREFRONT, 'node_modules/.bin', name);
        await run(bin('graphql-codegen'), ['--config', 'codegen.ts'], { cwd: app, timeout: 60_000 });
        const types = await readFile(join(app, 'src/gql/graphql.ts'), 'utf8');
        // The scalars mapping: money is a string, not unknown.
        expect(types).toMatch(/export type CatalogueQuery = .*rate: string,/);
        await run(bin('tsc'), ['--noEmit', '-p', '.'], { cwd: app, timeout: 60_000 });
        const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'src/catalogue.ts'], {
          cwd: app,
          timeout: 30_000,
        });
        expect(stdout).toMatch(/^1001 Instagram Followers .* \d+\.\d+ per 1000 \d+$/m);
      } finally {
        await rm(app, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

describe('the links between the documents', () => {
  it('reads anchors as GitHub makes them', () => {
    const found = anchors(
      '# Title\n## Quick start (Node.js 20.18 or newer)\n```sh\n# not a heading\n```\n### Live updates\n## Live updates\n',
    );
    expect([...found]).toEqual(['title', 'quick-start-nodejs-2018-or-newer', 'live-updates', 'live-updates-1']);
  });

  it('links the README to every document under docs/', () => {
    const targets = new Set(links(texts.get('README.md')!).map(({ target }) => target.split('#')[0]));
    expect(DOCUMENTS.filter((file) => file !== 'README.md' && !targets.has(file))).toEqual([]);
  });

  it.each(DOCUMENTS)('%s links only to files and headings that exist', async (file) => {
    const found = links(texts.get(file)!);
    expect(found.length, `${file} links to nothing`).toBeGreaterThan(0);
    for (const { line, target } of found) {
      const [path, anchor] = target.split('#');
      const resolved = path ? join(ROOT, dirname(file), decodeURIComponent(path)) : join(ROOT, file);
      expect(existsSync(resolved), `${file}:${line} links to ${target}: no such file`).toBe(true);
      if (anchor === undefined) continue;
      expect(anchors(await readFile(resolved, 'utf8')), `${file}:${line} links to ${target}: no such heading`).toContain(anchor);
    }
  });
});
