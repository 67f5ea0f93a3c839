import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { loadSandboxConfig } from '../../src/sandbox/config.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { form } from '../support/sandbox.ts';

function runMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/sandbox/main.ts'], {
    env: { ...process.env, SANDBOX_IDP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

describe('npm run sandbox', () => {
  it('serves alone, tells its URLs and keys, and stops cleanly on SIGTERM', { timeout: 20000 }, async () => {
    const run = runMain({ SANDBOX_PORT: '0', SANDBOX_TIME_SCALE: '60', SANDBOX_SEED: '7' });
    await expect.poll(run.stdout, { timeout: 15000, interval: 50 }).toMatch(/keys:[\s\S]*sandbox-reseller-key/);
    const url = /API: (\S+)/.exec(run.stdout())?.[1] ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v2$/);
    expect(run.stdout()).toContain('sandbox-demo-key  1000.00 USD');
    expect(run.stdout()).toContain(`admin: ${url.replace('/api/v2', '/__sandbox')}`);
    const response = await fetch(url, { method: 'POST', body: form({ key: DEMO_KEY, action: 'balance' }) });
    expect(await response.json()).toEqual({ balance: '1000.00', currency: 'USD' });
    run.child.kill('SIGTERM');
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(0);
  });

  it('runs the identity provider beside it and tells its issuer and demo customers', { timeout: 20000 }, async () => {
    const run = runMain({ SANDBOX_PORT: '0' });
    await expect.poll(run.stdout, { timeout: 15000, interval: 50 }).toMatch(/customers:[\s\S]*sam/);
    const issuer = /identity provider: (\S+)/.exec(run.stdout())?.[1] ?? '';
    expect(issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(run.stdout()).toContain('bob / bob-demo  customer-bob, spend limit 14.50');
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(discovery.issuer).toBe(issuer);
    run.child.kill('SIGTERM');
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(0);
  });

  it('plays another panel of the family with SANDBOX_FLAVOUR=panel', { timeout: 20000 }, async () => {
    const run = runMain({ SANDBOX_PORT: '0', SANDBOX_FLAVOUR: 'panel' });
    await expect.poll(run.stdout, { timeout: 15000, interval: 50 }).toMatch(/keys:[\s\S]*sandbox-reseller-key/);
    expect(run.stdout()).toMatch(/^SMM panel \(flavour panel\) sandbox API: /);
    expect(run.stdout()).toContain('sandbox-demo-key  2500.00 USD');
    const url = /API: (\S+)/.exec(run.stdout())?.[1] ?? '';
    const response = await fetch(url, { method: 'POST', body: form({ key: DEMO_KEY, action: 'balance' }) });
    expect(await response.json()).toEqual({ balance: '2,500.00000', currency: 'USD' });
    expect(await (await fetch(url.replace('/api/v2', '/__sandbox/flavour'))).json()).toEqual({ flavour: 'panel' });
    run.child.kill('SIGTERM');
    await once(run.child, 'exit');
  });

  it('stops with the one-line message of a bad setting and exit code 1', { timeout: 20000 }, async () => {
    const run = runMain({ SANDBOX_TIME_SCALE: 'fast' });
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(1);
    expect(run.stderr()).toBe('SANDBOX_TIME_SCALE must be a positive number (got "fast")\n');
  });

  it('reads the port of the identity provider and the lifetime of its access tokens', () => {
    expect(loadSandboxConfig({}).identity).toEqual({ port: 4011, accessTokenTtlS: 900 });
    expect(loadSandboxConfig({ SANDBOX_IDP_PORT: '0', SANDBOX_IDP_TOKEN_TTL_S: '60' }).identity).toEqual({ port: 0, accessTokenTtlS: 60 });
    expect(() => loadSandboxConfig({ SANDBOX_IDP_TOKEN_TTL_S: '0' })).toThrow('SANDBOX_IDP_TOKEN_TTL_S must be an integer from 1 to');
  });

  it('names the flavours it knows when SANDBOX_FLAVOUR is another', { timeout: 20000 }, async () => {
    const run = runMain({ SANDBOX_FLAVOUR: 'perfectpanel' });
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(1);
    expect(run.stderr()).toBe('SANDBOX_FLAVOUR must be one of hstock, panel (got "perfectpanel")\n');
  });
});
