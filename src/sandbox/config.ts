/** The sandbox's own settings (SANDBOX_*), read for `npm run sandbox` and for the gateway's built-in sandbox. */
import { fail, integer, PORT_MAX, positiveNumber, read, type Env } from '../settings.ts';
import { API_LEVELS, type ApiLevel } from './api-level.ts';
import { FLAVOUR_NAMES, type FlavourName } from './flavours.ts';

export interface SandboxConfig {
  port: number;
  host: string;
  timeScale: number;
  seed: number;
  /** The panel the sandbox plays: HstockPlus, or another panel of the API v2 family. */
  flavour: FlavourName;
  /** How much of the API v2 family it speaks: all of it, or only the supplier's page. */
  api: ApiLevel;
  /** The identity provider beside it (identity/): its port, and how long its access tokens last. */
  identity: { port: number; accessTokenTtlS: number };
}

export function loadSandboxConfig(env: Env = process.env): SandboxConfig {
  return {
    port: integer(env, 'SANDBOX_PORT', 4010, 0, PORT_MAX),
    host: read(env, 'SANDBOX_HOST') ?? '127.0.0.1',
    timeScale: positiveNumber(env, 'SANDBOX_TIME_SCALE', 1),
    seed: integer(env, 'SANDBOX_SEED', 42, 0),
    flavour: choice(env, 'SANDBOX_FLAVOUR', FLAVOUR_NAMES, 'hstock'),
    api: choice(env, 'SANDBOX_API', API_LEVELS, 'full'),
    identity: {
      port: integer(env, 'SANDBOX_IDP_PORT', 4011, 0, PORT_MAX),
      accessTokenTtlS: integer(env, 'SANDBOX_IDP_TOKEN_TTL_S', 900, 1),
    },
  };
}

function choice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = read(env, name)?.toLowerCase() ?? fallback;
  if (!(choices as readonly string[]).includes(raw)) fail(name, `one of ${choices.join(', ')}`, raw);
  return raw as T;
}
