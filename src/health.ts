import type { CallEvent } from './datasources/hstock-client.ts';

/**
 * Readiness from what the supplier did lately: ready until a call finds it unreachable, ready
 * again at its next answer (an error answer is still an answer).
 */
export class UpstreamHealth {
  #lastAnswer = 0;
  #lastFailure = 0;

  record(event: CallEvent): void {
    if (event.outcome === 'unavailable') this.#lastFailure = Date.now();
    else this.#lastAnswer = Date.now();
  }

  get ready(): boolean {
    return this.#lastFailure === 0 || this.#lastAnswer >= this.#lastFailure;
  }
}
