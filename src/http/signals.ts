/**
 * How the process stops on a signal. `npm start`, systemd's default `KillMode=control-group`, a
 * terminal's Ctrl-C and many container runtimes signal the whole process group, so the gateway
 * gets SIGTERM or SIGINT twice (once itself, once passed on by npm): a repeat is expected and
 * never cuts the drain short, since a placement cut mid-call is money spent with its id lost.
 *
 * The drain ends by itself: when everything in flight is answered (exit 0), or at the deadline
 * (exit 1, naming the placements still unresolved). SIGQUIT (Ctrl-\) is the operator's way out
 * now, with the same line; SIGKILL is the supervisor's.
 */
import type { Logger } from '../observability/logger.ts';

export interface Stoppable {
  /** Drains and closes everything; resolves when the process may exit. */
  stop(): Promise<void>;
  /** Placements whose outcome is not recorded yet. */
  unresolvedSpends(): number;
}

/** Signals that start a drain; SIGQUIT ends the process at once. */
const DRAIN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export function stopOnSignals(target: Stoppable, logger: Logger, deadlineMs: number, exit: (code: number) => void = process.exit): void {
  let stopping: string | undefined;
  const forced = (why: string) => {
    const unresolved = target.unresolvedSpends();
    const level = unresolved > 0 ? 'error' : 'warn';
    logger[level](
      { unresolvedPlacements: unresolved },
      `${why}: exiting before the drain ended${unresolved > 0 ? `; ${unresolved} placements may have been spent without a recorded outcome (see placedOrders)` : ''}`,
    );
    exit(1);
  };
  const drain = (signal: string) => {
    if (stopping) {
      logger.info(
        { unresolvedPlacements: target.unresolvedSpends() },
        `${signal} while draining (first ${stopping}): the drain goes on; SIGQUIT exits at once`,
      );
      return;
    }
    stopping = signal;
    logger.info(`${signal}: shutting down`);
    setTimeout(() => forced(`shutdown deadline of ${deadlineMs} ms passed`), deadlineMs).unref();
    target.stop().then(
      () => exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  const quit = () => forced('SIGQUIT');
  for (const signal of DRAIN_SIGNALS) process.on(signal, drain);
  process.on('SIGQUIT', quit);
}
