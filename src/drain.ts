/**
 * Connection draining for shutdown. Node's closeIdleConnections leaves alone sockets that never
 * sent a request (a browser's preconnect, a client's spare connection), so server.close() would
 * wait for them to time out, and closeAllConnections cuts requests mid-answer. This knows which
 * sockets carry a request, so that shutdown closes the others at once and each busy one as soon
 * as its response is done; only what is still busy after the grace is cut.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface Drain {
  /** Ends idle sockets now, busy ones after their response, and all of them after graceMs. */
  drain(graceMs: number): void;
}

export function trackConnections(server: Server): Drain {
  const busy = new Map<Socket, number>();
  let draining = false;
  const settle = (socket: Socket) => {
    if (draining && !busy.get(socket)) socket.end();
  };
  server.on('connection', (socket: Socket) => {
    busy.set(socket, 0);
    socket.once('close', () => busy.delete(socket));
  });
  // An upgraded socket is the WebSocket server's to close, with a close frame.
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => busy.delete(socket));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (draining) res.setHeader('connection', 'close');
    const held = busy.get(socket);
    if (held === undefined) return;
    busy.set(socket, held + 1);
    res.once('close', () => {
      const left = busy.get(socket);
      if (left === undefined) return; // the socket closed first
      busy.set(socket, Math.max(0, left - 1));
      settle(socket);
    });
  });
  return {
    drain(graceMs) {
      draining = true;
      for (const socket of busy.keys()) settle(socket);
      setTimeout(() => server.closeAllConnections(), graceMs).unref();
    },
  };
}

/** Work that must finish before the process exits: placements whose outcome is still to be recorded. */
export class InFlight {
  readonly #running = new Set<Promise<unknown>>();

  get size(): number {
    return this.#running.size;
  }

  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    return work;
  }

  /** Resolves when everything tracked so far has settled. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }
}
