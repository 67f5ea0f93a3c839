import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSandbox } from '../src/sandbox/index.ts';
import { DEMO_KEY } from './support/keys.ts';
import { listen } from './support/ports.ts';

const children: ChildProcess[] = [];

/** detached: the child leads a process group of its own, which a test can signal as systemd or a terminal does. */
function run(command: string, args: string[], env: Record<string, string>, { detached = false } = {}) {
  const child = spawn(command, args, {
    // The identity provider beside the built-in sandbox takes any free port, as the tests' gateways do.
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', SANDBOX_IDP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, output: () => ({ stdout, stderr }), lines, started: () => lines().find((line) => line.msg === 'gateway started') };
}

/** The gateway from its TypeScript source, as the tests of start-up errors need it (no build). */
const start = (env: Record<string, string>) => run(process.execPath, ['--import', 'tsx', 'src/main.ts'], env);

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    // A group leader's children go with it (npm's node, under npm start).
    if (child.spawnargs.includes('start')) process.kill(-child.pid!, 'SIGKILL');
    else child.kill('SIGTERM');
  }
});

const bearer = { authorization: `Bearer ${DEMO_KEY}`, 'content-type': 'application/json' };

async function placeSlowOrders(url: string, count: number) {
  const page = await fetch(url, {
    method: 'POST',
    headers: bearer,
    body: JSON.stringify({ query: '{ services(first: 1, category: "Instagram") { edges { node { id min } } } }' }),
  });
  const service = ((await page.json()) as { data: { services: { edges: { node: { id: string; min: number } }[] } } }).data.services
    .edges[0]!.node;
  const query = 'mutation($input: AddOrderInput!) { addOrder(input: $input) { id } }';
  return Array.from({ length: count }, (_, index) => {
    const input = {
      serviceId: service.id,
      quantity: service.min,
      link: `https://instagram.com/p/group-${index}`,
      idempotencyKey: `group-${index}`,
    };
    return fetch(url, { method: 'POST', headers: bearer, body: JSON.stringify({ query, variables: { input } }) }).then(
      async (response) => (await response.json()) as { data?: { addOrder: { id: string } }; errors?: unknown[] },
      (error: unknown) => ({ lost: String(error) }),
    );
  });
}

describe('npm start', () => {
  it('runs the compiled gateway under npm start on the built-in sandbox, and stops it with SIGTERM to that process', async () => {
    const { child, started, lines } = run('npm', ['start'], { PORT: '0', SANDBOX_PORT: '0', LOG_LEVEL: 'info' });
    await expect.poll(started, { timeout: 45_000 }).toBeTruthy();
    expect(started()).toMatchObject({
      mode: 'sandbox',
      stateStore: 'memory',
      graphiql: true,
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/),
    });
    const url = String(started()!.url);
    expect(lines().every((line) => typeof line.level === 'number')).toBe(true);

    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('graphiql');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ balance { amount currency } }' }),
    });
    expect(await response.json()).toEqual({ data: { balance: { amount: '1000.00', currency: 'USD' } } });

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  }, 60_000);

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'answers every placement in flight with its order id and exits 0 when %s reaches the whole process group of npm start',
    async (signal) => {
      const sandbox = await createSandbox({ port: 0 });
      try {
        const { child, started, lines } = run(
          'npm',
          ['start'],
          { PORT: '0', HSTOCK_API_URL: sandbox.url, LOG_LEVEL: 'info' },
          { detached: true },
        );
        await expect.poll(started, { timeout: 45_000 }).toBeTruthy();
        const url = String(started()!.url);
        sandbox.setFaults({ latencyMs: 1500, actions: ['add'] });
        const placements = await placeSlowOrders(url, 5);
        await expect.poll(() => sandbox.stats().requests.add ?? 0).toBe(5);

        // As systemd (KillMode=control-group), kill -- -PGID or a terminal's Ctrl-C: npm and node both
        // get it, and npm passes it on, so node sees it twice (once, when the two arrive together).
        process.kill(-child.pid!, signal);
        const [code] = await once(child, 'exit');
        const answers = await Promise.all(placements);
        expect(answers.map((answer) => ('data' in answer ? answer.data?.addOrder.id : answer))).toEqual(
          answers.map(() => expect.stringMatching(/^\d+$/)),
        );
        expect(code).toBe(0);
        expect(lines().filter((line) => line.msg === `${signal}: shutting down`)).toHaveLength(1);
      } finally {
        await sandbox.close();
      }
    },
    60_000,
  );

  it('exits at once on SIGQUIT, naming the placements left without a recorded outcome', async () => {
    const sandbox = await createSandbox({ port: 0 });
    try {
      const { child, started, lines } = start({ PORT: '0', HSTOCK_API_URL: sandbox.url, LOG_LEVEL: 'info' });
      await expect.poll(started, { timeout: 15_000 }).toBeTruthy();
      sandbox.setFaults({ latencyMs: 5000, actions: ['add'] });
      const placements = await placeSlowOrders(String(started()!.url), 2);
      await expect.poll(() => sandbox.stats().requests.add ?? 0).toBe(2);
      child.kill('SIGQUIT');
      const [code] = await once(child, 'exit');
      expect(code).toBe(1);
      expect(lines().find((line) => line.level === 50)).toMatchObject({
        msg: expect.stringContaining('SIGQUIT: exiting before the drain ended; 2 placements'),
        unresolvedPlacements: 2,
      });
      expect(await Promise.all(placements)).toEqual([{ lost: expect.any(String) }, { lost: expect.any(String) }]);
    } finally {
      await sandbox.close();
    }
  });

  it('warns in one line when a real supplier is set and REDIS_URL is not', async () => {
    const { lines, started } = start({ PORT: '0', HSTOCK_API_URL: 'http://127.0.0.1:9/api/v2', LOG_LEVEL: 'info' });
    await expect.poll(started, { timeout: 15_000 }).toBeTruthy();
    const warnings = lines().filter((line) => line.level === 40 && /REDIS_URL/.test(String(line.msg)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/REDIS_URL is not set: idempotency records and the ledger .* do not survive a restart/);
  });

  it('does not warn about the state store when REDIS_URL is set', async () => {
    const { output, started } = start({
      PORT: '0',
      HSTOCK_API_URL: 'http://127.0.0.1:9/api/v2',
      REDIS_URL: 'redis://127.0.0.1:9',
      LOG_LEVEL: 'info',
    });
    await expect.poll(started, { timeout: 15_000 }).toBeTruthy();
    expect(started()).toMatchObject({ mode: 'pass-through', supplier: 'http://127.0.0.1:9', stateStore: 'redis://127.0.0.1:9' });
    expect(output().stdout).not.toContain('REDIS_URL is not set');
  });

  it('binds HOST in sandbox mode too', async () => {
    const { started } = start({ PORT: '0', SANDBOX_PORT: '0', HOST: '127.0.0.2', LOG_LEVEL: 'info' });
    await expect.poll(started, { timeout: 15_000 }).toBeTruthy();
    expect(String(started()!.url)).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/graphql$/);
  });

  it.each(['HOST', 'PORT'])('stops with one clear line naming %s when it cannot listen', async (name) => {
    const blocker = createServer();
    const taken = new URL(await listen(blocker)).port;
    const env: Record<string, string> = name === 'HOST' ? { HOST: 'not-a-host.invalid', PORT: '0' } : { PORT: taken };
    const { child, output } = start({ SANDBOX_PORT: '0', ...env });
    const [code] = await once(child, 'exit');
    blocker.close();
    expect(code).toBe(1);
    const lines = output().stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${name}=`);
    expect(lines[0]).not.toMatch(/\bat \w+ \(/);
  });

  it.each([
    ['PORT', 'abc'],
    ['REDIS_URL', 'http://not-redis'],
    ['HSTOCK_TIMEOUT_MS', '-5'],
    ['HSTOCK_API_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['GRAPHIQL', 'true', { INTROSPECTION: 'false' }],
  ])('stops with one clear line naming %s when it is %s', async (name, value, more: Record<string, string> = {}) => {
    const { child, output } = start({ [name]: value, ...more });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    const lines = output().stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
    expect(lines[0]).not.toMatch(/\bat \w+ \(/);
  });

  it('refuses to start with a server key and no gateway tokens, without printing the key', async () => {
    const { child, output } = start({ HSTOCK_API_URL: 'http://127.0.0.1:9/api/v2', HSTOCK_API_KEY: 'very-secret-key' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(output().stderr).toContain('GATEWAY_TOKENS');
    expect(output().stderr + output().stdout).not.toContain('very-secret-key');
  });
});
