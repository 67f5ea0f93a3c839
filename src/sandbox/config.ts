/** The sandbox's own settings (SANDBOX_*), read for `npm run sandbox` and for the gateway's built-in sandbox. */
import { fail, integer, PORT_MAX, positiveNumber, read, type Env } from '../settings.ts';
import { FLAVOUR_NAMES, type FlavourName } from './flavours.ts';

export interface SandboxConfig {
  port: number;
  host: string;
  timeScale: number;
  seed: number;
  /** The panel the sandbox plays: HstockPlus, or another panel of the API v2 family. */
  flavour: FlavourName;
}

export function loadSandboxConfig(env: Env = process.env): SandboxConfig {
  return {
    port: integer(env, 'SANDBOX_PORT', 4010, 0, PORT_MAX),
    host: read(env, 'SANDBOX_HOST') ?? '127.0.0.1',
    timeScale: positiveNumber(env, 'SANDBOX_TIME_SCALE', 1),
    seed: integer(env, 'SANDBOX_SEED', 42, 0),
    flavour: sandboxFlavour(env),
  };
}

function sandboxFlavour(env: Env): FlavourName {
  const raw = read(env, 'SANDBOX_FLAVOUR')?.toLowerCase() ?? 'hstock';
  if (!(FLAVOUR_NAMES as readonly string[]).includes(raw)) fail('SANDBOX_FLAVOUR', `one of ${FLAVOUR_NAMES.join(', ')}`, raw);
  return raw as FlavourName;
}
