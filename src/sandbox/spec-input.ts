import { SandboxInputError } from './errors.ts';

/** Checks for the JSON bodies of the admin endpoints and the same objects passed in code. */

export type Input = Record<string, unknown>;

export function objectWith(input: unknown, keys: readonly string[], what: string): Input {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SandboxInputError(`${what} must be a JSON object`);
  }
  const unknown = Object.keys(input).filter((key) => !keys.includes(key));
  if (unknown.length > 0) {
    throw new SandboxInputError(`${what} has unknown fields: ${unknown.join(', ')} (allowed: ${keys.join(', ')})`);
  }
  return input as Input;
}

export function optionalNumber(input: Input, key: string, min: number, max = Infinity): number | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `at least ${min}` : `from ${min} to ${max}`;
    throw new SandboxInputError(`${key} must be a number ${range}`);
  }
  return value;
}

export function optionalInteger(input: Input, key: string, min: number): number | undefined {
  const value = optionalNumber(input, key, min);
  if (value !== undefined && !Number.isInteger(value)) throw new SandboxInputError(`${key} must be an integer`);
  return value;
}

export function optionalBoolean(input: Input, key: string): boolean | undefined {
  const value = input[key];
  if (value !== undefined && typeof value !== 'boolean') throw new SandboxInputError(`${key} must be true or false`);
  return value;
}

export function optionalString(input: Input, key: string): string | undefined {
  const value = input[key];
  if (value !== undefined && typeof value !== 'string') throw new SandboxInputError(`${key} must be a string`);
  return value;
}

export function optionalChoice<T extends string>(input: Input, key: string, choices: readonly T[]): T | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new SandboxInputError(`${key} must be one of ${choices.join(', ')}`);
  }
  return value as T;
}

export function optionalStrings(input: Input, key: string): string[] | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new SandboxInputError(`${key} must be an array of strings`);
  }
  return value as string[];
}

/** Drops absent fields, so a parsed spec equals what the caller wrote. */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
