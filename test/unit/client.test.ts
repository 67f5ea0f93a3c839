/**
 * The supplier client against a panel that answers a spend with a shape it does not document: the
 * answer came after the panel acted, so the order may exist and the placement must say so.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HstockClient } from '../../src/supplier/client.ts';
import { listen } from '../support/ports.ts';

const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    const action = new URLSearchParams(body).get('action');
    // `add` should answer {"order": 123}; `status` an order's fields.
    response.writeHead(200, { 'content-type': 'application/json' }).end(action === 'add' ? '{"id": 123}' : '{"state": "done"}');
  });
});
let client: HstockClient;

beforeAll(async () => {
  client = new HstockClient({
    url: `${await listen(server)}/api/v2`,
    timeoutMs: 2000,
    connections: 2,
    retries: 0,
    guard: { concurrencyPerKey: 4, queuePerKey: 4, circuitFailures: 100, circuitHalfOpenMs: 1000 },
  });
});
afterAll(async () => {
  await client.close();
  server.close();
});

it('says an order may exist when the answer to add cannot be read, so that nothing is released or placed twice', async () => {
  await expect(client.addOrder('key', { serviceId: '1', quantity: 100, link: 'https://x.com/p' })).rejects.toMatchObject({
    code: 'UPSTREAM_UNAVAILABLE',
    extensions: { action: 'add', orderMayExist: true },
  });
});

it('says nothing of an order for a read whose answer cannot be read', async () => {
  const error = await client.orderStatus('key', '1').catch((failure: unknown) => failure);
  expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  expect((error as { extensions: Record<string, unknown> }).extensions.orderMayExist).toBeUndefined();
});
