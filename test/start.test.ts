import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';

const children: ChildProcess[] = [];

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM');
});

describe('npm start', () => {
  it('runs the gateway on the built-in sandbox when nothing is configured, with GraphiQL', async () => {
    const { child, output } = start({ PORT: '0', SANDBOX_PORT: '0' });
    await expect.poll(() => /GraphiQL: (\S+)/.exec(output().stdout)?.[1], { timeout: 15_000 }).toBeTruthy();
    const url = /GraphiQL: (\S+)/.exec(output().stdout)![1]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);

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
  });

  it('warns in one line when a real supplier is set and REDIS_URL is not', async () => {
    const { output } = start({ PORT: '0', HSTOCK_API_URL: 'http://127.0.0.1:9/api/v2' });
    await expect.poll(() => output().stdout, { timeout: 15_000 }).toContain('GraphiQL');
    const warnings = output().stdout.split('\n').filter((line) => line.includes('"level":40'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/REDIS_URL is not set: idempotency records and the ledger .* do not survive a restart/);
  });

  it('does not warn about the state store when REDIS_URL is set', async () => {
    const { output } = start({ PORT: '0', HSTOCK_API_URL: 'http://127.0.0.1:9/api/v2', REDIS_URL: 'redis://127.0.0.1:9' });
    await expect.poll(() => output().stdout, { timeout: 15_000 }).toContain('GraphiQL');
    expect(output().stdout).not.toContain('REDIS_URL is not set');
  });

  it.each([
    ['PORT', 'abc'],
    ['REDIS_URL', 'http://not-redis'],
    ['HSTOCK_TIMEOUT_MS', '-5'],
    ['HSTOCK_API_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
  ])('stops with one clear line naming %s when it is %s', async (name, value) => {
    const { child, output } = start({ [name]: value });
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
