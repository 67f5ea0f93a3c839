/**
 * HTTP policy of the gateway: the request body limit, however the body is sent, and request ids.
 */
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';

const LIMIT = 16 * 1024;

interface Upload {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** Body bytes the client had written when the answer came. */
  sent: number;
}

/**
 * Streams a JSON body of up to `total` bytes in 16 KiB chunks, chunked or with its Content-Length
 * announced, and stops writing as soon as the gateway answers.
 */
function upload(url: string, total: number, framing: 'chunked' | 'content-length'): Promise<Upload> {
  const { hostname, port, pathname } = new URL(url);
  const head = Buffer.from('{"query":"{ __typename }","extensions":{"padding":"');
  const tail = Buffer.from('"}}');
  const chunk = Buffer.alloc(16 * 1024, 'x');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(
      {
        host: hostname,
        port,
        path: pathname,
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${DEMO_KEY}`,
          ...(framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(total) }),
        },
      },
      (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => (body += text));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers, sent }));
      },
    );
    // Once the gateway has answered and closed the connection, writes fail; that is the point.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const write = () => {
      while (!answered && sent < total) {
        const left = total - sent - tail.length;
        const piece = sent === 0 ? head : left > 0 ? chunk.subarray(0, Math.min(chunk.length, left)) : tail;
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', write);
      }
      if (!answered) req.end();
    };
    write();
  });
}

describe('request body limit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { maxBodyBytes: LIMIT } });
  });
  afterAll(() => h.close());

  it('refuses a chunked body over the limit with 413 while it is still being sent', async () => {
    const response = await upload(h.url, 24 * 1024 * 1024, 'chunked');
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toEqual({
      errors: [{ message: `Request body over ${LIMIT} bytes.`, extensions: { code: 'BAD_USER_INPUT' } }],
    });
    expect(response.headers.connection).toBe('close');
    // Answered after about the limit, not after the 24 MiB: the body was never buffered whole.
    expect(response.sent).toBeLessThan(4 * 1024 * 1024);
  });

  it('refuses a body whose Content-Length is over the limit before reading it', async () => {
    const response = await upload(h.url, 24 * 1024 * 1024, 'content-length');
    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe('close');
    expect(response.sent).toBeLessThan(4 * 1024 * 1024);
  });

  it('lets a client that sends its announced body after a pause read the 413 before the socket closes', async () => {
    const { port } = new URL(h.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    const errors: string[] = [];
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    const ended = once(socket, 'end');
    const total = 600 * 1024;
    socket.write(`POST /graphql HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\ncontent-length: ${total}\r\n\r\n`);
    // The gateway answers on the headers; the client only starts its body a moment later.
    await expect.poll(() => answer).toContain('\r\n\r\n{');
    for (let sent = 0; sent < total; sent += 16 * 1024) {
      if (!socket.write(Buffer.alloc(Math.min(16 * 1024, total - sent), 'x'))) await once(socket, 'drain');
    }
    await ended;
    expect(errors).toEqual([]);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      errors: [{ message: `Request body over ${LIMIT} bytes.`, extensions: { code: 'BAD_USER_INPUT' } }],
    });
    socket.destroy();
  });

  it('serves a chunked body within the limit', async () => {
    const response = await upload(h.url, LIMIT - 1024, 'chunked');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('request ids', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const post = (headers: Record<string, string>) =>
    fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}`, ...headers },
      body: JSON.stringify({ query: '{ balance { amount } }' }),
    });

  it("keeps a caller's plain request id and answers with it", async () => {
    const response = await post({ 'x-request-id': 'checkout-7.retry_2' });
    expect(response.headers.get('x-request-id')).toBe('checkout-7.retry_2');
  });

  it('gives every other request an id of its own', async () => {
    const [plain, unfit] = await Promise.all([post({}), post({ 'x-request-id': 'has spaces and "quotes"' })]);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(plain.headers.get('x-request-id')).toMatch(uuid);
    expect(unfit.headers.get('x-request-id')).toMatch(uuid);
    expect(plain.headers.get('x-request-id')).not.toBe(unfit.headers.get('x-request-id'));
  });

  it('tags the SSE stream of a subscription with its id too', async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${DEMO_KEY}`,
        'x-request-id': 'sse-1',
      },
      body: JSON.stringify({ query: 'subscription { orderStatus(id: "1") { status } }' }),
    });
    expect(response.headers.get('x-request-id')).toBe('sse-1');
    await response.body?.cancel();
  });
});
