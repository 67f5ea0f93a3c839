/**
 * Cancels: asked for in one supplier call for the orders that may be, each other order answered
 * with why not and no call. Nothing is spent and nothing is refunded yet: `1` from the supplier
 * means the cancel was asked for, and the order's status says when it is CANCELED.
 */
import { isGatewayError } from '../errors.ts';
import type { Spender } from './placement.ts';

export interface CancelOutcome {
  orderId: string;
  requested: boolean;
  /** Why it was not asked for, or the supplier's own error for it. */
  error: string | null;
  /** Whether the caller may see the order (so the answer may show it). */
  known: boolean;
}

/**
 * Only orders the caller may see, of services that offer cancels (where the ledger knows the
 * service; otherwise the supplier judges). One answer per id asked, in order; a repeated id is
 * asked for once. The call is never retried, and shutdown waits for its answer.
 */
export async function cancelOrders(ctx: Spender, ids: readonly string[]): Promise<CancelOutcome[]> {
  const { supplier, loaders } = ctx;
  const distinct = [...new Set(ids)];
  const [visible, placements] = await Promise.all([
    loaders.visible('order', distinct),
    ctx.runtime.state.ledger.placementsOf(supplier.caller.tenant, 'order', distinct),
  ]);
  const services = await Promise.all(
    placements.map((placement) => (placement?.kind === 'order' ? loaders.service.load(placement.input.serviceId) : null)),
  );
  const refused = new Map<string, string>();
  distinct.forEach((id, index) => {
    const service = services[index];
    if (!visible[index]) refused.set(id, 'Order not found');
    else if (service && !service.cancel) refused.set(id, `Service ${service.id} offers no cancel.`);
  });
  const asking = distinct.filter((id) => !refused.has(id));
  const asked = asking.length > 0 ? await ctx.runtime.spends.track(supplier.cancel(asking)) : new Map<string, true | Error>();
  return ids.map((orderId): CancelOutcome => {
    const why = refused.get(orderId);
    if (why !== undefined) return { orderId, requested: false, error: why, known: why !== 'Order not found' };
    const answer = asked.get(orderId)!;
    if (answer === true) return { orderId, requested: true, error: null, known: true };
    return { orderId, requested: false, error: answer.message, known: !isGatewayError(answer, 'NOT_FOUND') };
  });
}
