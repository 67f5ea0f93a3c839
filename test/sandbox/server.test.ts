import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { form, startSandbox } from '../support/sandbox.ts';

describe('the sandbox server', () => {
  it('tells its API URL, origin and port', async () => {
    const sandbox = await startSandbox();
    expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}/api/v2`);
    expect(sandbox.origin).toBe(`http://127.0.0.1:${sandbox.port}`);
    expect(sandbox.port).toBeGreaterThan(0);
  });

  it('closes promptly while a keep-alive connection is idle', async () => {
    const sandbox = await createSandbox();
    const agent = new Agent({ keepAlive: true });
    const body = form({ key: DEMO_KEY, action: 'balance' }).toString();
    await new Promise<void>((resolve, reject) => {
      const headers = { 'content-type': 'application/x-www-form-urlencoded' };
      const outgoing = request(sandbox.url, { method: 'POST', agent, headers }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
    expect(Object.keys(agent.freeSockets)).toHaveLength(1);
    const started = performance.now();
    await sandbox.close();
    expect(performance.now() - started).toBeLessThan(1000);
    agent.destroy();
  });

  it('closes promptly in the middle of a slow answer, which then fails', async () => {
    const sandbox = await createSandbox();
    sandbox.setFaults({ latencyMs: 10000 });
    const pending = fetch(sandbox.url, { method: 'POST', body: form({ key: DEMO_KEY, action: 'balance' }) });
    await expect.poll(() => sandbox.stats().requests.balance).toBe(1);
    const started = performance.now();
    await sandbox.close();
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
  });

  it('can be closed twice', async () => {
    const sandbox = await createSandbox();
    await sandbox.close();
    await expect(sandbox.close()).resolves.toBeUndefined();
  });

  it('refuses options it cannot follow', async () => {
    await expect(createSandbox({ timeScale: -1 })).rejects.toThrow(/timeScale/);
    await expect(createSandbox({ partialShare: 0.7, cancelShare: 0.5 })).rejects.toThrow(/exceed 1/);
    await expect(createSandbox({ keys: [{ key: 'k', balance: '-5' }] })).rejects.toThrow(/balance of k/);
    await expect(
      createSandbox({
        keys: [
          { key: 'k', balance: '1' },
          { key: 'k', balance: '2' },
        ],
      }),
    ).rejects.toThrow(/twice/);
  });
});
