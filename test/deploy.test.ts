/**
 * The deploy recipes in the repository, as far as this machine can run them: the systemd unit's
 * command line started and stopped as systemd stops it, the Dockerfile's and compose.yaml's
 * commands checked against package.json and the unit (no container engine runs here), and the
 * image's health check run against a real gateway.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createSandbox } from '../src/sandbox/index.ts';
import { DEMO_KEY } from './support/keys.ts';

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** `Key=value` lines of a systemd unit (the last one wins, as in systemd). */
function unitSettings(text: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^(\w+)=(.*)$/.exec(line.trim());
    if (match) settings[match[1]!] = match[2]!;
  }
  return settings;
}

/** A Dockerfile's instructions, continuation lines joined, comments left out. */
function instructions(text: string): { name: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [name, ...rest] = line.split(/\s+/);
      return { name: name!.toUpperCase(), args: rest.join(' ') };
    });
}

const unit = unitSettings(read('deploy/hstock-gateway.service'));
const dockerfile = instructions(read('Dockerfile'));
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

/** What the unit runs after the node binary: the gateway's own command line. */
const unitCommand = unit.ExecStart!.split(/\s+/);
/** The gateway's drain and the margin after it on the defaults (server.ts), in seconds. */
const defaults = loadConfig({});
const stopSeconds = (Math.max(10_000, defaults.upstreamTimeoutMs + 5_000) + 5_000) / 1000;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
});

describe('the systemd unit', () => {
  it('runs node itself on the built dist/, stops with SIGTERM and waits longer than the gateway can take to stop', () => {
    expect(unitCommand[0]).toMatch(/\/node$/);
    expect(unitCommand.slice(1)).toContain('dist/main.js');
    expect(['mixed', 'control-group']).toContain(unit.KillMode);
    expect(unit.KillSignal ?? 'SIGTERM').toBe('SIGTERM');
    expect(Number(unit.TimeoutStopSec)).toBeGreaterThan(stopSeconds);
    expect(unit.Restart).toBe('on-failure');
    expect(unit.EnvironmentFile).toMatch(/^-?\//);
    // The package's start script runs the same command line (through exec, after a build).
    expect(packageJson.scripts.start).toContain(`exec node ${unitCommand.slice(1).join(' ')}`);
  });

  it("answers every placement in flight with its order id and exits 0 when the unit's process group gets SIGTERM", async () => {
    const sandbox = await createSandbox({ port: 0 });
    try {
      // The unit's command line, from the repository as its WorkingDirectory, with this machine's node.
      const child = spawn(process.execPath, unitCommand.slice(1), {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', PORT: '0', HSTOCK_API_URL: sandbox.url, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      children.push(child);
      let stdout = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const started = () =>
        stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { msg: string; url?: string })
          .find((line) => line.msg === 'gateway started');
      await expect.poll(started, { timeout: 20_000 }).toBeTruthy();
      const url = started()!.url!;

      const headers = { authorization: `Bearer ${DEMO_KEY}`, 'content-type': 'application/json' };
      const page = (await (
        await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ query: '{ services(first: 1, category: "Instagram") { edges { node { id min } } } }' }),
        })
      ).json()) as {
        data: { services: { edges: { node: { id: string; min: number } }[] } };
      };
      const service = page.data.services.edges[0]!.node;
      sandbox.setFaults({ latencyMs: 1500, actions: ['add'] });
      const query = 'mutation($input: AddOrderInput!) { addOrder(input: $input) { id } }';
      const placements = Array.from({ length: 3 }, (_, n) =>
        fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            query,
            variables: { input: { serviceId: service.id, quantity: service.min, link: `https://instagram.com/p/unit-${n}` } },
          }),
        }).then(
          async (response) => ((await response.json()) as { data?: { addOrder: { id: string } } }).data?.addOrder.id,
          () => undefined,
        ),
      );
      await expect.poll(() => sandbox.stats().requests.add ?? 0).toBe(3);

      const signalled = performance.now();
      process.kill(-child.pid!, 'SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      expect((performance.now() - signalled) / 1000).toBeLessThan(Number(unit.TimeoutStopSec));
      expect(await Promise.all(placements)).toEqual([
        expect.stringMatching(/^\d+$/),
        expect.stringMatching(/^\d+$/),
        expect.stringMatching(/^\d+$/),
      ]);
    } finally {
      await sandbox.close();
    }
  }, 40_000);
});

describe('the Dockerfile', () => {
  const copies = dockerfile.filter((each) => each.name === 'COPY' && !each.args.startsWith('--from'));
  const runs = dockerfile.filter((each) => each.name === 'RUN').map((each) => each.args);
  const ignored = read('.dockerignore').split('\n').filter(Boolean);

  it('copies only files of the repository that the build context keeps', () => {
    const sources = copies.flatMap((each) => each.args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
    // The build compiles with the configuration it copies.
    expect(JSON.parse(read('tsconfig.build.json')).extends).toBe('./tsconfig.json');
    expect(sources).toEqual(expect.arrayContaining(['tsconfig.json', 'tsconfig.build.json']));
  });

  it("builds with the package's own scripts and starts the command line the systemd unit runs, under tini, as a non-root user", () => {
    expect(runs.some((command) => /\bnpm ci\b/.test(command))).toBe(true);
    const scripts = runs.flatMap((command) => [...command.matchAll(/npm run (\S+)/g)].map((match) => match[1]!));
    expect(scripts).toContain('build');
    for (const script of scripts) expect(packageJson.scripts[script], script).toBeDefined();
    const json = (name: string) => JSON.parse(dockerfile.find((each) => each.name === name)!.args) as string[];
    expect(json('CMD')).toEqual(['node', ...unitCommand.slice(1)]);
    expect(json('ENTRYPOINT')).toEqual(['/usr/bin/tini', '--']);
    expect(runs.some((command) => /apt-get install .*\btini\b/.test(command))).toBe(true);
    expect(dockerfile.filter((each) => each.name === 'USER').at(-1)?.args).toBe('node');
    expect(dockerfile.filter((each) => each.name === 'FROM').every((each) => /^node:20\b/.test(each.args))).toBe(true);
    expect(dockerfile.find((each) => each.name === 'ENV')?.args).toContain('HOST=0.0.0.0');
  });

  it('has a health check that passes against a running gateway and fails when none answers', async () => {
    const check = dockerfile.find((each) => each.name === 'HEALTHCHECK')!.args;
    const command = JSON.parse(check.slice(check.indexOf('CMD') + 3).trim()) as string[];
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/health');
    const { startHarness } = await import('./support/harness.ts');
    const h = await startHarness();
    const execute = promisify(execFile);
    try {
      const port = new URL(h.url).port;
      await expect(execute(process.execPath, command.slice(1), { env: { PORT: port } })).resolves.toBeDefined();
    } finally {
      await h.close();
    }
    const closed = new URL(h.url).port;
    await expect(execute(process.execPath, command.slice(1), { env: { PORT: closed } })).rejects.toMatchObject({ code: 1 });
  });
});

describe('compose.yaml', () => {
  const compose = read('compose.yaml');

  it('runs the image beside a Redis that keeps its records, and waits for the drain', () => {
    expect(compose).toMatch(/^\s+build: \.$/m);
    expect(compose).toMatch(/REDIS_URL: redis:\/\/redis:6379/);
    expect(compose).toMatch(/--appendonly['"], ['"]yes/);
    expect(compose).toMatch(/--maxmemory-policy['"], ['"]noeviction/);
    const grace = /stop_grace_period: (\d+)s/.exec(compose);
    expect(Number(grace?.[1])).toBeGreaterThan(stopSeconds);
  });
});
