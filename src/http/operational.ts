import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SupplierHealth } from '../observability/health.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StateStore } from '../state/store.ts';

/**
 * The operational endpoints, answered before Yoga and whatever the gateway is doing:
 * `/health` (the process runs) and `/ready` (the supplier answers, the circuit is closed and
 * the gateway is not draining), both JSON with the supplier, circuit and state-store states
 * (reachable, and slow: a command missed its deadline lately), and `/metrics` when it is served
 * on this port. Resolves false for any other request.
 */
export function operationalRoutes(
  health: SupplierHealth,
  state: StateStore,
  draining: () => boolean,
  metrics?: Metrics,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path === '/metrics' && metrics) {
      void metrics.serve(res);
      return true;
    }
    if (path !== '/health' && path !== '/ready') return false;
    const ready = health.ready && !draining();
    const body = {
      status: path === '/health' ? 'ok' : ready ? 'ready' : 'not ready',
      draining: draining(),
      supplier: health.state,
      stateStore: { kind: state.kind, ready: state.ready, slow: state.slow },
    };
    res.writeHead(path === '/ready' && !ready ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
    return true;
  };
}
