import { SandboxInputError } from './errors.ts';
import type { FaultSpec } from './faults.ts';
import { patchOrder, type OrderPatch } from './orders.ts';
import { parseQuirks, type QuirkSpec } from './quirks.ts';
import { patchSms, type SmsPatch } from './sms-orders.ts';
import { defined, objectWith, optionalChoice, optionalString } from './spec-input.ts';
import { settleDue, watchOrder, watchSms, type World } from './world.ts';

/** The sandbox's own controls, shared by the programmatic interface and the admin endpoints. */
export interface Controls {
  stats(): { requests: Record<string, number> };
  resetStats(): void;
  setFaults(faults: FaultSpec): void;
  clearFaults(): void;
  setQuirks(quirks: QuirkSpec): void;
  advance(seconds: number): void;
  forceOrder(id: number, patch: OrderPatch): void;
  forceSms(id: number, patch: SmsPatch): void;
}

const ORDER_OUTCOMES = ['completed', 'partial', 'canceled'] as const;
const SMS_OUTCOMES = ['code', 'no_code'] as const;

export function createControls(world: World): Controls {
  return {
    stats: () => ({ requests: Object.fromEntries(world.requests) }),
    resetStats: () => world.requests.clear(),
    setFaults: (faults) => world.faults.set(faults),
    clearFaults: () => world.faults.clear(),
    setQuirks(quirks) {
      world.quirks = parseQuirks(quirks);
    },
    advance(seconds) {
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
        throw new SandboxInputError('advance takes a number of seconds, 0 or more');
      }
      world.clock.advance(seconds);
    },
    forceOrder(id, patch) {
      const order = world.orders.get(id);
      if (!order) throw new SandboxInputError(`order ${id} not found`, 404);
      const parsed = parseOrderPatch(patch);
      patchOrder(order, parsed, settleDue(world));
      if (parsed.outcome) watchOrder(world, order);
    },
    forceSms(id, patch) {
      const order = world.smsOrders.get(id);
      if (!order) throw new SandboxInputError(`SMS order ${id} not found`, 404);
      const parsed = parseSmsPatch(patch);
      patchSms(order, parsed, settleDue(world), world.smsTimings);
      if (parsed.outcome) watchSms(world, order);
    },
  };
}

export function parseOrderPatch(patch: unknown): OrderPatch {
  const input = objectWith(patch, ['outcome', 'rawStatus'], 'order patch');
  return defined({
    outcome: optionalChoice(input, 'outcome', ORDER_OUTCOMES),
    rawStatus: optionalString(input, 'rawStatus'),
  });
}

export function parseSmsPatch(patch: unknown): SmsPatch {
  const input = objectWith(patch, ['outcome', 'rawStatus'], 'SMS patch');
  return defined({
    outcome: optionalChoice(input, 'outcome', SMS_OUTCOMES),
    rawStatus: optionalString(input, 'rawStatus'),
  });
}
