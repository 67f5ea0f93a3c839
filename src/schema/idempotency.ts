import type { Context } from '../context.ts';
import { badInput } from '../datasources/errors.ts';

const MAX_KEY_LENGTH = 255;

/** Runs a money-spending mutation at most once per (tenant, mutation, idempotencyKey). */
export function idempotent<T>(
  ctx: Context,
  mutation: string,
  idempotencyKey: string | null | undefined,
  input: object,
  work: () => Promise<T>,
): Promise<T> {
  if (idempotencyKey === null || idempotencyKey === undefined) return work();
  const key = idempotencyKey.trim();
  if (key === '' || key.length > MAX_KEY_LENGTH) {
    throw badInput(`idempotencyKey must be 1 to ${MAX_KEY_LENGTH} characters.`, { field: 'idempotencyKey' });
  }
  const scope = `${ctx.supplier.tenant}\u0000${mutation}\u0000${key}`;
  return ctx.services.idempotency.run(scope, JSON.stringify(input), work);
}
