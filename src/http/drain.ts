/**
 * Connection draining for shutdown. Requests already received are answered; requests that arrive
 * once draining began get 503 with Retry-After and Connection: close before anything runs, so a
 * client (or its load balancer) retries on another instance instead of seeing a reset. Sockets
 * are left open until no request is in flight: ending an idle keep-alive socket while its client
 * is sending on it is what resets requests, so the 503 with Connection: close is what closes
 * them. Node's closeIdleConnections and closeAllConnections know nothing of this; this knows
 * which sockets carry a request, and only what is still busy after the grace is cut.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a client that arrives during shutdown is told: try again shortly, elsewhere. */
const RETRY_AFTER_S = 2;

export interface Drain {
  /** Wraps the request handler: requests pass until draining begins, then get 503. */
  gate(handler: RequestListener): RequestListener;
  readonly draining: boolean;
  /** Starts draining; resolves once nothing is in flight (or graceMs passed), the listener closed and every socket ended. */
  drain(graceMs: number): Promise<void>;
}

function refuse(res: ServerResponse): void {
  const body = JSON.stringify({
    errors: [
      {
        message: 'The gateway is restarting: try again in a moment.',
        extensions: { code: 'UPSTREAM_UNAVAILABLE', reason: 'SHUTTING_DOWN' },
      },
    ],
  });
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': String(RETRY_AFTER_S), connection: 'close' });
  res.end(body);
}

export function trackConnections(server: Server): Drain {
  const busy = new Map<Socket, number>();
  let draining = false;
  let idle: (() => void) | undefined;
  const settle = () => {
    if (draining && [...busy.values()].every((count) => count === 0)) idle?.();
  };
  server.on('connection', (socket: Socket) => {
    busy.set(socket, 0);
    socket.once('close', () => {
      busy.delete(socket);
      settle();
    });
  });
  // An upgraded socket is the WebSocket server's to close, with a close frame.
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => busy.delete(socket));
  const track = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const held = busy.get(socket);
    if (held === undefined) return;
    busy.set(socket, held + 1);
    res.once('close', () => {
      const left = busy.get(socket);
      if (left === undefined) return; // the socket closed first
      busy.set(socket, Math.max(0, left - 1));
      settle();
    });
  };
  return {
    gate: (handler) => (req, res) => {
      if (draining) return refuse(res);
      track(req, res);
      handler(req, res);
    },
    get draining() {
      return draining;
    },
    async drain(graceMs) {
      draining = true;
      const quiet = new Promise<void>((resolve) => (idle = resolve));
      settle();
      await Promise.race([quiet, sleep(graceMs, undefined, { ref: false })]);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
