import type { AddressInfo } from 'node:net';
import type { SandboxKey } from './accounts.ts';
import { createControls, type Controls } from './controls.ts';
import { API_PATH, createSandboxServer } from './http.ts';
import { createWorld } from './world.ts';

export type { SandboxKey } from './accounts.ts';
export { DEFAULT_KEYS } from './accounts.ts';
export type { FaultSpec } from './faults.ts';
export type { OrderPatch } from './orders.ts';
export type { QuirkSpec } from './quirks.ts';
export type { SmsPatch } from './sms-orders.ts';

export interface SandboxOptions {
  /** Default 42; catalogue and outcomes are deterministic for a seed. */
  seed?: number;
  /** Default 1; 60 => one sandbox minute per real second; 0 freezes the clock, so only advance() moves it. */
  timeScale?: number;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default DEFAULT_KEYS: demo (1000.00), empty (0.00) and reseller (250.00, rates x0.8, no Spotify). */
  keys?: SandboxKey[];
  /** Share of SMM orders that end Partial (default 0.1). */
  partialShare?: number;
  /** Share of SMM orders that end Canceled (default 0.05). */
  cancelShare?: number;
  /** Default 30 sandbox seconds. */
  smsCodeDelaySeconds?: number;
  /** Default 1200 sandbox seconds. */
  smsLifetimeSeconds?: number;
  /** Share of SMS orders that never get a code and expire (default 0.1). */
  smsNoCodeShare?: number;
}

export interface Sandbox extends Controls {
  /** The API endpoint, e.g. http://127.0.0.1:43123/api/v2. */
  url: string;
  /** e.g. http://127.0.0.1:43123; the admin endpoints live under /__sandbox. */
  origin: string;
  port: number;
  /** Closes the server and every open connection, keep-alive or mid-request. */
  close(): Promise<void>;
}

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const world = createWorld(options);
  const controls = createControls(world);
  const { server, stop } = createSandboxServer(world, controls);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    ...controls,
    url: `${origin}${API_PATH}`,
    origin,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        stop();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
