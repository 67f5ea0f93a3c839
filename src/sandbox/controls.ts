import { SandboxInputError } from './errors.ts';
import type { FlavourName } from './flavours.ts';
import { parseFaults, parseOrderPatch, parseQuirks, parseRefillPatch, parseSeconds, parseSmsPatch } from './http/admin-input.ts';
import type { FaultSpec } from './http/faults.ts';
import type { QuirkSpec } from './http/quirks.ts';
import { patchOrder, type OrderPatch } from './smm/orders.ts';
import { patchRefill, type RefillPatch } from './smm/refills.ts';
import { patchSms, type SmsPatch } from './sms/orders.ts';
import { settleDue, watchOrder, watchSms, type World } from './world/world.ts';

/** The sandbox's own controls, shared by the programmatic interface and the admin endpoints. */
export interface Controls {
  /** Which panel this sandbox plays, fixed when it starts. */
  readonly flavour: FlavourName;
  stats(): { requests: Record<string, number> };
  resetStats(): void;
  setFaults(faults: FaultSpec): void;
  clearFaults(): void;
  setQuirks(quirks: QuirkSpec): void;
  advance(seconds: number): void;
  forceOrder(id: number, patch: OrderPatch): void;
  forceSms(id: number, patch: SmsPatch): void;
  forceRefill(id: number, patch: RefillPatch): void;
}

/** The same controls as the admin routes see them: each takes its input unchecked and parses it once. */
export type AdminControls = ReturnType<typeof createControls>;

export function createControls(world: World) {
  return {
    flavour: world.flavour.name,
    stats: () => ({ requests: Object.fromEntries(world.requests) }),
    resetStats: () => world.requests.clear(),
    setFaults: (faults: unknown) => world.faults.set(parseFaults(faults)),
    clearFaults: () => world.faults.clear(),
    setQuirks(quirks: unknown) {
      world.quirks = parseQuirks(quirks);
    },
    advance(seconds: unknown) {
      world.clock.advance(parseSeconds(seconds));
    },
    forceOrder(id: number, patch: unknown) {
      const parsed = parseOrderPatch(patch);
      const order = world.orders.get(id);
      if (!order) throw new SandboxInputError(`order ${id} not found`, 404);
      patchOrder(order, parsed, settleDue(world));
      if (parsed.outcome) watchOrder(world, order);
    },
    forceSms(id: number, patch: unknown) {
      const parsed = parseSmsPatch(patch);
      const order = world.smsOrders.get(id);
      if (!order) throw new SandboxInputError(`SMS order ${id} not found`, 404);
      patchSms(order, parsed, settleDue(world), world.smsTimings);
      if (parsed.outcome) watchSms(world, order);
    },
    forceRefill(id: number, patch: unknown) {
      const parsed = parseRefillPatch(patch);
      const refill = world.refills.get(id);
      if (!refill) throw new SandboxInputError(`refill ${id} not found`, 404);
      patchRefill(refill, parsed, settleDue(world));
    },
  } satisfies Controls;
}
