import { SandboxInputError } from '../errors.ts';
import type { OrderPatch } from '../smm/orders.ts';
import type { RefillPatch } from '../smm/refills.ts';
import type { SmsPatch } from '../sms/orders.ts';
import { FAULT_RATES, type FaultSpec } from './faults.ts';
import type { QuirkSpec } from './quirks.ts';

/**
 * The one check of what the sandbox's own controls are given: admin JSON bodies, and the same
 * objects passed in code, whose values TypeScript alone does not bound (a rate of 2, -1 seconds).
 */

type Input = Record<string, unknown>;

const STATUS_CASES = ['as-is', 'lower', 'upper'] as const;
const ORDER_OUTCOMES = ['completed', 'partial', 'canceled', 'failed'] as const;
const SMS_OUTCOMES = ['code', 'no_code'] as const;
const REFILL_OUTCOMES = ['completed', 'rejected'] as const;

export function parseFaults(input: unknown): FaultSpec {
  const spec = objectWith(input, ['latencyMs', 'latencyJitterMs', ...FAULT_RATES, 'error200Message', 'actions', 'count'], 'faults');
  return defined({
    latencyMs: optionalNumber(spec, 'latencyMs', 0),
    latencyJitterMs: optionalNumber(spec, 'latencyJitterMs', 0),
    ...Object.fromEntries(FAULT_RATES.map((rate) => [rate, optionalNumber(spec, rate, 0, 1)])),
    error200Message: optionalString(spec, 'error200Message'),
    actions: optionalStrings(spec, 'actions'),
    count: optionalInteger(spec, 'count', 1),
  });
}

export function parseQuirks(input: unknown): QuirkSpec {
  const spec = objectWith(input, ['stringNumbers', 'booleansAs01', 'statusCase'], 'quirks');
  return defined({
    stringNumbers: optionalBoolean(spec, 'stringNumbers'),
    booleansAs01: optionalBoolean(spec, 'booleansAs01'),
    statusCase: optionalChoice(spec, 'statusCase', STATUS_CASES),
  });
}

export function parseOrderPatch(patch: unknown): OrderPatch {
  const input = objectWith(patch, ['outcome', 'rawStatus'], 'order patch');
  return defined({
    outcome: optionalChoice(input, 'outcome', ORDER_OUTCOMES),
    rawStatus: optionalString(input, 'rawStatus'),
  });
}

export function parseRefillPatch(patch: unknown): RefillPatch {
  const input = objectWith(patch, ['outcome', 'rawStatus'], 'refill patch');
  return defined({
    outcome: optionalChoice(input, 'outcome', REFILL_OUTCOMES),
    rawStatus: optionalString(input, 'rawStatus'),
  });
}

export function parseSmsPatch(patch: unknown): SmsPatch {
  const input = objectWith(patch, ['outcome', 'rawStatus'], 'SMS patch');
  return defined({
    outcome: optionalChoice(input, 'outcome', SMS_OUTCOMES),
    rawStatus: optionalString(input, 'rawStatus'),
  });
}

export function parseSeconds(seconds: unknown): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new SandboxInputError('advance takes a number of seconds, 0 or more');
  }
  return seconds;
}

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

function optionalNumber(input: Input, key: string, min: number, max = Infinity): number | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `at least ${min}` : `from ${min} to ${max}`;
    throw new SandboxInputError(`${key} must be a number ${range}`);
  }
  return value;
}

function optionalInteger(input: Input, key: string, min: number): number | undefined {
  const value = optionalNumber(input, key, min);
  if (value !== undefined && !Number.isInteger(value)) throw new SandboxInputError(`${key} must be an integer`);
  return value;
}

function optionalBoolean(input: Input, key: string): boolean | undefined {
  const value = input[key];
  if (value !== undefined && typeof value !== 'boolean') throw new SandboxInputError(`${key} must be true or false`);
  return value;
}

function optionalString(input: Input, key: string): string | undefined {
  const value = input[key];
  if (value !== undefined && typeof value !== 'string') throw new SandboxInputError(`${key} must be a string`);
  return value;
}

function optionalChoice<T extends string>(input: Input, key: string, choices: readonly T[]): T | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new SandboxInputError(`${key} must be one of ${choices.join(', ')}`);
  }
  return value as T;
}

function optionalStrings(input: Input, key: string): string[] | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new SandboxInputError(`${key} must be an array of strings`);
  }
  return value as string[];
}

/** Drops absent fields, so a parsed spec equals what the caller wrote. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
