/**
 * What bounds one WebSocket and one client address: the bytes waiting for a client that does not
 * read, the queries a socket runs at once, and the connections an address holds without an
 * identity. websocket.ts wires them into graphql-ws.
 */
import WebSocket from 'ws';
import { Line } from './line.ts';

/**
 * How many queries and mutations of one socket run at once; the others wait in order, as requests
 * on an HTTP/1.1 connection wait for the one before. A socket's answers are then built about as
 * fast as its client takes them, and one that does not read is found, and closed, before many
 * more are built for it.
 */
const QUERIES_AT_ONCE = 4;

/** A socket's own line of queries and mutations. */
export const queryLine = () => new Line(QUERIES_AT_ONCE);

/** Close code 4413: more than WS_MAX_PENDING_BYTES waited to be sent; graphql-ws clients reconnect. */
const NOT_READING = 4413;

type SendOptions = Parameters<WebSocket['send']>[1];
type SendCallback = (error?: Error) => void;

/**
 * The gateway's server-side socket. A client that does not read leaves everything sent to it in
 * this process's memory, so a send that finds more than `maxPendingBytes` already waiting closes
 * the socket instead (4413): what one socket holds stays within the bound and one message.
 */
export function boundedSocket(maxPendingBytes: number, onNotReading: () => void) {
  return class BoundedSocket extends WebSocket {
    /** Closes the socket if its client stopped reading; whether it is closing. */
    notReading(): boolean {
      if (this.readyState === WebSocket.OPEN && this.bufferedAmount > maxPendingBytes) {
        onNotReading();
        this.close(NOT_READING, `The client does not read: over ${maxPendingBytes} bytes wait to be sent`);
      }
      return this.readyState !== WebSocket.OPEN;
    }

    override send(data: Parameters<WebSocket['send']>[0], optionsOrCallback?: SendOptions | SendCallback, callback?: SendCallback): void {
      const done = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback;
      const options = typeof optionsOrCallback === 'function' ? {} : (optionsOrCallback ?? {});
      if (this.notReading()) return done?.();
      // A write fails only once the socket is gone, and its closing ends every operation on it;
      // graphql-ws would log each message still queued as an internal error.
      super.send(data, options, () => done?.());
    }

    /**
     * ws closes a socket whose client broke the protocol (a frame over maxPayload gets 1009) and
     * then reports it as an error, which graphql-ws would log as an internal one.
     */
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'error' && /^WS_ERR_/.test(String((args[0] as { code?: unknown } | undefined)?.code))) return true;
      return super.emit(event, ...args);
    }
  };
}

export type BoundedSocket = InstanceType<ReturnType<typeof boundedSocket>>;

/**
 * WebSocket connections without an identity, per client address: counted from the upgrade until
 * connection_init is admitted with one (credentials that pass, or none where anonymous callers are
 * let in), or the socket closes. One admitted without a key, as GraphiQL's are, stays counted.
 */
export class Unidentified {
  readonly #byAddress = new Map<string, number>();
  readonly #held = new WeakMap<WebSocket, string>();

  constructor(private readonly limit: number) {}

  full(address: string): boolean {
    return (this.#byAddress.get(address) ?? 0) >= this.limit;
  }

  hold(socket: WebSocket, address: string): void {
    this.#held.set(socket, address);
    this.#byAddress.set(address, (this.#byAddress.get(address) ?? 0) + 1);
  }

  release(socket: WebSocket): void {
    const address = this.#held.get(socket);
    if (address === undefined) return;
    this.#held.delete(socket);
    const left = (this.#byAddress.get(address) ?? 1) - 1;
    if (left > 0) this.#byAddress.set(address, left);
    else this.#byAddress.delete(address);
  }
}
