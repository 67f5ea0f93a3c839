import { mulberry32, seedFor, type Random } from '../world/random.ts';

export interface FaultSpec {
  latencyMs?: number;
  latencyJitterMs?: number;
  /** 0..1: HTTP 502/503 with an HTML body. */
  serverErrorRate?: number;
  /** HTTP 429. */
  tooManyRequestsRate?: number;
  /** HTTP 200 with a body that is not JSON: truncated JSON or an HTML page. */
  malformedRate?: number;
  /** The socket is destroyed without an answer. */
  dropRate?: number;
  /** `{"error": error200Message}` with HTTP 200. */
  error200Rate?: number;
  /** Default: the flavour's outage text. */
  error200Message?: string;
  /** Only these actions; default all. */
  actions?: string[];
  /** Only the next N matching requests, then the spec is spent. */
  count?: number;
}

/**
 * Which failure a request meets. 5xx, 429 and error-200 answer before the action runs, as a proxy or
 * an overloaded panel would; malformed and dropped answers come after it ran, like a response lost
 * on the way back, so an `add` that fails that way did place (and charge) its order.
 */
type FaultKind = 'drop' | 'serverError' | 'tooManyRequests' | 'malformed' | 'error200';

export interface Fault {
  delayMs: number;
  kind?: FaultKind;
  /** A draw in 0..1 that picks between variants of the same failure (502 or 503, truncated JSON or HTML). */
  variant: number;
  message: string;
}

export const FAULT_RATES = ['dropRate', 'serverErrorRate', 'tooManyRequestsRate', 'malformedRate', 'error200Rate'] as const;
const KINDS: Record<(typeof FAULT_RATES)[number], FaultKind> = {
  dropRate: 'drop',
  serverErrorRate: 'serverError',
  tooManyRequestsRate: 'tooManyRequests',
  malformedRate: 'malformed',
  error200Rate: 'error200',
};

const FAULT_SALT = 5;

export class Faults {
  #spec: FaultSpec | undefined;
  #remaining = Infinity;
  #random: Random;

  constructor(
    private readonly seed: number,
    private readonly outageText: string,
  ) {
    this.#random = mulberry32(seedFor(seed, FAULT_SALT));
  }

  /** Replaces the spec and restarts its draws, so the same spec on the same requests fails the same way. */
  set(spec: FaultSpec): void {
    this.#spec = spec;
    this.#remaining = spec.count ?? Infinity;
    this.#random = mulberry32(seedFor(this.seed, FAULT_SALT));
  }

  clear(): void {
    this.#spec = undefined;
  }

  next(action: string): Fault | undefined {
    const spec = this.#spec;
    if (!spec || (spec.actions && !spec.actions.includes(action))) return undefined;
    this.#remaining -= 1;
    if (this.#remaining <= 0) this.clear();
    const delayMs = (spec.latencyMs ?? 0) + this.#random() * (spec.latencyJitterMs ?? 0);
    const roll = this.#random();
    let band = 0;
    const rate = FAULT_RATES.find((name) => {
      band += spec[name] ?? 0;
      return roll < band;
    });
    return {
      delayMs,
      ...(rate ? { kind: KINDS[rate] } : {}),
      variant: this.#random(),
      message: spec.error200Message ?? this.outageText,
    };
  }
}

export function htmlPage(status: number, title: string): string {
  return (
    `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n` +
    `<center><h1>${status} ${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
  );
}
