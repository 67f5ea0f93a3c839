/** Loopback ports for tests and benchmarks: a server of the test's own, or a port for a process to take. */
import { createServer, type AddressInfo, type Server } from 'node:net';

/** Listens on a free loopback port; resolves with the server's origin, e.g. http://127.0.0.1:43123. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A loopback port nobody listens on at the time of the call, for a process that must be given its port. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  const { port } = new URL(await listen(probe));
  await new Promise((resolve) => probe.close(resolve));
  return Number(port);
}
