import { createControls, type Controls } from './controls.ts';
import { listenOn } from './http/listen.ts';
import { API_PATH, createSandboxServer } from './http/server.ts';
import { createWorld, type WorldOptions } from './world/world.ts';

export { API_LEVELS, type ApiLevel } from './api-level.ts';
export { FLAVOUR_NAMES, PANEL_KEYS, type FlavourName } from './flavours.ts';
export type { FaultSpec } from './http/faults.ts';
export type { QuirkSpec } from './http/quirks.ts';
export type { OrderPatch } from './smm/orders.ts';
export type { RefillPatch } from './smm/refills.ts';
export type { SmsPatch } from './sms/orders.ts';
export { DEFAULT_KEYS, type SandboxKey } from './world/accounts.ts';

export interface SandboxOptions extends WorldOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
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
  const origin = await listenOn(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const port = Number(new URL(origin).port);
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
