/**
 * How much of the API v2 family the sandbox speaks. `full`: the supplier's page and the family's
 * actions beyond it (many statuses per call, refill, cancel, typed `add` parameters, drip-feed).
 * `basic`: the supplier's page alone, as a panel without the rest would answer, so that a client's
 * fallback can be tested end to end.
 */
export const API_LEVELS = ['basic', 'full'] as const;
export type ApiLevel = (typeof API_LEVELS)[number];

/** The family's actions beyond the supplier's page: a `basic` supplier answers them as unknown. */
export const FAMILY_ACTIONS: ReadonlySet<string> = new Set(['refill', 'refill_status', 'cancel']);

/** Callers in plain JavaScript or from configuration can pass any string: a wrong one stops at once. */
export function apiLevel(name: string): ApiLevel {
  if (!(API_LEVELS as readonly string[]).includes(name)) {
    throw new RangeError(`api must be one of ${API_LEVELS.join(', ')} (got ${JSON.stringify(name)})`);
  }
  return name as ApiLevel;
}
