/**
 * Reading settings from the environment: each reader names the variable in the one line a bad
 * value stops start-up with (ConfigError), never a stack trace. config.ts reads the gateway's
 * settings with them, sandbox/config.ts the sandbox's.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

export const PORT_MAX = 65535;

export function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

export function fail(name: string, expected: string, got: string, secret = false): never {
  throw new ConfigError(`${name} must be ${expected} (got ${secret ? 'a value that is not' : JSON.stringify(got)})`);
}

export function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) fail(name, `an integer from ${min} to ${max}`, raw);
  const value = Number(raw);
  if (value < min || value > max) fail(name, `an integer from ${min} to ${max}`, raw);
  return value;
}

export function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(value > 0)) fail(name, 'a positive number', raw);
  return value;
}
