/**
 * Is the supplier there? An active, cheap probe every few seconds answers it without client
 * traffic, so an instance a load balancer took out comes back by itself; client calls update it
 * between probes. Not ready until the first probe answered. Outages are logged when they start
 * and when they end.
 */
import type { CallEvent, HstockClient } from '../supplier/client.ts';
import type { Logger } from './logger.ts';

export interface SupplierState {
  reachable: boolean;
  /** When the supplier last answered, and when it last failed to (ISO-8601), if ever. */
  lastAnswerAt: string | null;
  lastFailureAt: string | null;
  circuit: 'closed' | 'open';
}

export class SupplierHealth {
  #reachable: boolean;
  #lastAnswer = 0;
  #lastFailure = 0;
  #downSince = 0;
  #timer?: NodeJS.Timeout;

  constructor(
    private readonly client: HstockClient,
    private readonly logger: Logger,
    /** Probe interval; 0: no probe, and the supplier counts as reachable until a call fails. */
    private readonly probeMs: number,
  ) {
    this.#reachable = probeMs === 0;
  }

  /** Probes now, then every probeMs, until stop(). */
  start(): void {
    if (this.probeMs === 0 || this.#timer) return;
    const probe = async () => {
      this.#mark(await this.client.probe());
      this.#timer = setTimeout(() => void probe(), this.probeMs).unref();
    };
    this.#timer = setTimeout(() => void probe(), 0).unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  /** A client call's outcome: an answer proves the supplier there, an unavailable one that it is not. */
  record(event: CallEvent): void {
    if (event.attempts === 0) return; // refused by the guard: the supplier was not asked
    this.#mark(event.outcome !== 'unavailable');
  }

  get ready(): boolean {
    return this.#reachable && !this.client.guard.circuitOpen;
  }

  get state(): SupplierState {
    const at = (ms: number) => (ms ? new Date(ms).toISOString() : null);
    return {
      reachable: this.#reachable,
      lastAnswerAt: at(this.#lastAnswer),
      lastFailureAt: at(this.#lastFailure),
      circuit: this.client.guard.circuitOpen ? 'open' : 'closed',
    };
  }

  #mark(answered: boolean): void {
    const now = Date.now();
    if (answered) {
      this.#lastAnswer = now;
      if (!this.#reachable && this.#downSince) {
        this.logger.warn({ outageSeconds: Math.round((now - this.#downSince) / 1000) }, 'supplier reachable again');
      }
      this.#reachable = true;
      this.#downSince = 0;
      return;
    }
    this.#lastFailure = now;
    if (this.#reachable || !this.#downSince) {
      this.logger.warn('supplier unreachable');
      this.#downSince = now;
    }
    this.#reachable = false;
  }
}
