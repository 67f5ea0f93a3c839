import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { AdminControls } from '../controls.ts';
import { ERRORS } from '../errors.ts';
import type { World } from '../world/world.ts';
import { ADMIN_PREFIX, answerAdmin } from './admin-routes.ts';
import { dispatch } from './api.ts';
import { htmlPage, type Fault } from './faults.ts';
import { BodyTooLargeError, readBody, requestFields, type Fields, type Json } from './form.ts';
import { applyQuirks } from './quirks.ts';

export const API_PATH = '/api/v2';
const NO_ACTION = '(none)';

export interface SandboxServer {
  server: Server;
  /** Cuts injected latencies short, so closing never waits for them. */
  stop(): void;
}

export function createSandboxServer(world: World, controls: AdminControls): SandboxServer {
  const stopping = new AbortController();
  const server = createServer((request, response) => {
    handle(world, controls, request, response, stopping.signal).catch((error: unknown) => {
      if (stopping.signal.aborted || response.destroyed) return;
      console.error('sandbox failed to answer', error);
      if (response.headersSent) response.destroy();
      else sendJson(response, 500, { error: ERRORS.internal });
    });
  });
  return { server, stop: () => stopping.abort() };
}

const isApi = (path: string) => path === API_PATH || path === `${API_PATH}/`;

async function handle(
  world: World,
  controls: AdminControls,
  request: IncomingMessage,
  response: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://sandbox');
  const path = url.pathname;
  let body: Buffer;
  try {
    body = await readBody(request);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    if (isApi(path)) count(world, url.searchParams.get('action'));
    sendJson(response, 413, { error: ERRORS.bodyTooLarge }, { connection: 'close' });
    return;
  }
  if (isApi(path)) {
    const fields = await requestFields(url, request.headers['content-type'], body);
    return api(world, request, response, fields, signal);
  }
  if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) {
    const answer = answerAdmin(controls, request.method ?? 'GET', path, body.toString('utf8'));
    sendJson(response, answer.status, answer.body);
    return;
  }
  sendJson(response, 404, { error: ERRORS.notFound });
}

/** Every request to the API counts, faulted or invalid, under its action or "(none)". */
function count(world: World, action: string | null | undefined): string {
  const name = action || NO_ACTION;
  world.requests.set(name, (world.requests.get(name) ?? 0) + 1);
  return name;
}

async function api(world: World, request: IncomingMessage, response: ServerResponse, fields: Fields, signal: AbortSignal): Promise<void> {
  const action = count(world, fields.get('action'));
  if (request.method !== 'GET' && request.method !== 'POST') {
    sendJson(response, 405, { error: ERRORS.methodNotAllowed }, { allow: 'GET, POST' });
    return;
  }
  const fault = world.faults.next(action);
  if (fault && fault.delayMs > 0) await delay(fault.delayMs, undefined, { signal });
  if (fault && answeredBefore(response, fault)) return;
  const { status, body } = dispatch(world, fields);
  const answer = JSON.stringify(applyQuirks(body, world.quirks));
  if (fault?.kind === 'drop') {
    request.socket.destroy();
  } else if (fault?.kind === 'malformed') {
    if (fault.variant < 0.5) send(response, 200, answer.slice(0, Math.max(1, Math.floor(answer.length / 2))));
    else send(response, 200, htmlPage(503, 'Service Temporarily Unavailable'), 'text/html');
  } else {
    send(response, status, answer);
  }
}

/** The failures a proxy or an overloaded panel answers without running the action. */
function answeredBefore(response: ServerResponse, fault: Fault): boolean {
  if (fault.kind === 'serverError') {
    const [status, title] = fault.variant < 0.5 ? [502, 'Bad Gateway'] : [503, 'Service Temporarily Unavailable'];
    send(response, status, htmlPage(status, title), 'text/html');
  } else if (fault.kind === 'tooManyRequests') {
    send(response, 429, htmlPage(429, 'Too Many Requests'), 'text/html', { 'retry-after': '1' });
  } else if (fault.kind === 'error200') {
    sendJson(response, 200, { error: fault.message });
  } else {
    return false;
  }
  return true;
}

function sendJson(response: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  send(response, status, JSON.stringify(body), 'application/json', headers);
}

function send(
  response: ServerResponse,
  status: number,
  body: string,
  type: 'application/json' | 'text/html' = 'application/json',
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}
