import type { Json } from './form.ts';

/** Wire-format variations seen across real panels, to test a client's tolerant parsing. */
export interface QuirkSpec {
  /** Every JSON number sent as a string: "min": "50", "service": "308". */
  stringNumbers?: boolean;
  /** true/false sent as 1/0 (as "1"/"0" when stringNumbers is on too). */
  booleansAs01?: boolean;
  /** The case of order and SMS statuses in `status` and `sms_status`. */
  statusCase?: 'as-is' | 'lower' | 'upper';
}

export function applyQuirks(value: Json, quirks: QuirkSpec): Json {
  if (!quirks.stringNumbers && !quirks.booleansAs01) return value;
  return transform(value, quirks);
}

function transform(value: Json, quirks: QuirkSpec): Json {
  if (typeof value === 'boolean' && quirks.booleansAs01) return transform(value ? 1 : 0, quirks);
  if (typeof value === 'number' && quirks.stringNumbers) return String(value);
  if (Array.isArray(value)) return value.map((item) => transform(item, quirks));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, field === undefined ? field : transform(field, quirks)]));
  }
  return value;
}

export function caseStatus(status: string, quirks: QuirkSpec): string {
  if (quirks.statusCase === 'lower') return status.toLowerCase();
  if (quirks.statusCase === 'upper') return status.toUpperCase();
  return status;
}
