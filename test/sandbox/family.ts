/** Helpers for the API v2 family's actions beyond the supplier's page (refill, cancel, typed `add`). */
import type { Sandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { allServices, call, placeOrder, type Fields, type ServiceView } from '../support/sandbox.ts';

export type FamilyService = ServiceView & { dripfeed?: boolean };

/** No seeded order ends Partial or Canceled by itself, so each test decides its orders' outcomes. */
export const steady = { partialShare: 0, cancelShare: 0 };

/** With `steady`, an SMM order of 1,000 waits 30 s and runs 70 s. */
export const SMM_DONE_SECONDS = 100;

export async function serviceWhere(sandbox: Sandbox, matches: (service: FamilyService) => boolean): Promise<FamilyService> {
  const service = ((await allServices(sandbox)) as FamilyService[]).find(matches);
  if (!service) throw new Error('no service in the catalogue matches');
  return service;
}

export const ofType = (sandbox: Sandbox, type: string) => serviceWhere(sandbox, (service) => service.type === type);

/** An SMM order of 1,000 units of a seeded Default service with the given refill and cancel flags. */
export async function smmOrder(sandbox: Sandbox, flags: { refill?: boolean; cancel?: boolean }): Promise<number> {
  const service = await serviceWhere(
    sandbox,
    (candidate) =>
      // Products hold at most 100: the panel flavour does not list entityType.
      candidate.type === 'Default' &&
      candidate.min <= 1000 &&
      candidate.max >= 1000 &&
      (flags.refill === undefined || candidate.refill === flags.refill) &&
      (flags.cancel === undefined || candidate.cancel === flags.cancel),
  );
  return placeOrder(sandbox, { service: service.service, quantity: 1000, link: 'https://instagram.com/p/1' });
}

export function act<T>(sandbox: Sandbox, action: string, fields: Fields, key = DEMO_KEY): Promise<T> {
  return call<T>(sandbox, { key, action, ...fields });
}
