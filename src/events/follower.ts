/**
 * The follower: in server-key mode every order, SMS order and refill placed through the gateway is
 * polled until its state is final, whether or not anyone watches it, and each change is recorded
 * as an event (the event log, store.ts). A round every FOLLOW_POLL_MS on every instance claims the
 * due ids 100 at a time (one `status` call each; SMS orders one `sms_status` per id), so across
 * instances on one Redis each batch is read by one of them, and records what it read only while
 * its claim is current. An id that does not change is polled less and less often, up to
 * FOLLOW_POLL_MAX_MS.
 */
import { randomUUID } from 'node:crypto';
import { tenantOf, type Identity } from '../auth/authenticator.ts';
import type { Config } from '../config.ts';
import { isGatewayError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Ledger, Placement } from '../state/store.ts';
import { Loaders, STATUSES_PER_CALL } from '../supplier/loaders.ts';
import { isFinalOrder, isFinalRefill, isFinalSms, smsMessage } from '../supplier/states.ts';
import { Supplier, type SupplierDeps } from '../supplier/supplier.ts';
import type { Claim, EventLog, Followed, Step } from './store.ts';
import type { EventType, FollowedKind, RecordedEvent } from './types.ts';

type State = { status: string; code?: string | null } & object;

/** Each kind's event type, and when its state will not change again. */
const KINDS: Record<FollowedKind, { type: EventType; isFinal: (state: State) => boolean }> = {
  order: { type: 'order.updated', isFinal: (state) => isFinalOrder(state as Parameters<typeof isFinalOrder>[0]) },
  refill: { type: 'refill.updated', isFinal: (state) => isFinalRefill(state as Parameters<typeof isFinalRefill>[0]) },
  sms: { type: 'sms_order.updated', isFinal: (state) => isFinalSms(state as Parameters<typeof isFinalSms>[0]) },
};

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * How long to wait before the next poll of an id that has not changed for `quietMs`: the poll
 * interval while it changes, doubling as it stays the same, up to the longest. Worked out from the
 * round that saw the change, so ids that changed in one round stay in one call.
 */
export function nextInterval(pollMs: number, maxMs: number, quietMs: number): number {
  let interval = pollMs;
  while (interval < maxMs && interval * 2 <= quietMs) interval = Math.min(interval * 2, maxMs);
  return interval;
}

export interface FollowerOptions {
  serverKey: string;
  tenant: string;
  log: EventLog;
  deps: SupplierDeps;
  ledger: Ledger;
  pollMs: number;
  maxPollMs: number;
  /** How long a claim holds its ids: past it, an instance that died holding them lets others poll them. */
  leaseMs: number;
  logger: Logger;
}

export class Follower {
  readonly #identity: Identity;
  #timer?: NodeJS.Timeout;
  #round?: Promise<void>;
  #stopped = true;
  /** Rounds in a row whose reads failed: they back off the ids they claimed. */
  #failures = 0;
  /** The event log failed: said once until it answers again. */
  #logFailing = false;

  constructor(private readonly options: FollowerOptions) {
    this.#identity = { ok: true, key: options.serverKey, tenant: options.tenant, caller: 'follower', readsAll: true };
  }

  /** A placement recorded PLACED: its ids are followed from one poll interval on. Never throws: a placement is not failed for it. */
  async follow(placement: Placement): Promise<void> {
    if (placement.outcome !== 'PLACED' || placement.orderIds.length === 0 || placement.tenant !== this.options.tenant) return;
    const callers = placement.placedBy ? [placement.caller, placement.placedBy] : [placement.caller];
    const orderId = placement.kind === 'refill' ? placement.input.orderId : undefined;
    const followed = placement.orderIds.map((id): Followed => (orderId ? { id, callers, orderId } : { id, callers }));
    try {
      await this.options.log.follow(placement.tenant, placement.kind, followed, Date.now() + this.options.pollMs);
    } catch (error) {
      this.options.logger.error({ err: error, kind: placement.kind, orderIds: placement.orderIds }, 'a placed order could not be followed');
    }
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** No new round; the one running ends after its current batch. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#round = this.#runRound().finally(() => this.#schedule());
    }, this.options.pollMs);
    this.#timer.unref();
  }

  /** Every kind's due ids, 100 a claim, until a claim finds fewer than 100 due. */
  async #runRound(): Promise<void> {
    const roundAt = Date.now();
    const supplier = new Supplier(this.#identity, this.options.deps);
    try {
      for (const kind of Object.keys(KINDS) as FollowedKind[]) {
        let claim: Claim | undefined;
        // Only a round's first call is filled up: a later one would take back ids this round just read.
        let fill = true;
        do {
          if (this.#stopped) return;
          const leaseUntil = Date.now() + this.options.leaseMs;
          claim = await this.options.log.claim(this.options.tenant, kind, { max: STATUSES_PER_CALL, now: roundAt, leaseUntil, fill });
          fill = false;
          if (claim) await this.#poll(kind, claim, roundAt, supplier);
        } while (claim && claim.due >= STATUSES_PER_CALL);
      }
      if (this.#logFailing) this.options.logger.warn('the event log answers again: placed orders are followed');
      this.#logFailing = false;
    } catch (error) {
      if (!this.#logFailing)
        this.options.logger.warn({ err: error }, 'the event log failed: placed orders are not followed until it answers');
      this.#logFailing = true;
    }
  }

  async #poll(kind: FollowedKind, claim: Claim, roundAt: number, supplier: Supplier): Promise<void> {
    const ids = claim.ids.map(({ followed }) => followed.id);
    const states = await this.#read(kind, ids, supplier);
    const at = new Date().toISOString();
    const failed = states.some((state) => state instanceof Error && !isGatewayError(state, 'NOT_FOUND'));
    this.#failures = failed ? this.#failures + 1 : 0;
    const steps = claim.ids.map((claimed, index) => this.#step(kind, claimed, states[index]!, roundAt, at));
    await this.options.log.apply(this.options.tenant, kind, claim, steps);
  }

  /** One call for up to 100 orders or refills; one `sms_status` per SMS order, with the message once a code came. */
  #read(kind: FollowedKind, ids: string[], supplier: Supplier): Promise<Array<State | Error>> {
    const loaders = new Loaders(supplier, this.options.ledger);
    if (kind === 'order') return loaders.orderStates(ids);
    if (kind === 'refill') return loaders.refillStates(ids);
    return Promise.all(
      ids.map((id) =>
        supplier
          .smsStatus(id)
          .then(async (state) => ({ ...state, smsContent: await smsMessage(state, loaders) }))
          .catch(asError),
      ),
    );
  }

  /**
   * What a poll of one id comes to: NOT_FOUND ends following it; another failure backs it off; a
   * state whose JSON differs from the recorded one is the next version and an event; a final
   * state is the last poll.
   */
  #step(kind: FollowedKind, { followed, recorded }: Claim['ids'][number], read: State | Error, roundAt: number, at: string): Step {
    const { pollMs, maxPollMs, tenant } = this.options;
    if (read instanceof Error) {
      if (isGatewayError(read, 'NOT_FOUND')) return { id: followed.id, next: null };
      return { id: followed.id, next: roundAt + Math.min(maxPollMs, pollMs * 2 ** this.#failures) };
    }
    const state = followed.orderId === undefined ? read : { ...read, orderId: followed.orderId };
    const text = JSON.stringify(state);
    const final = KINDS[kind].isFinal(read);
    if (recorded?.state === text) {
      return { id: followed.id, next: final ? null : roundAt + nextInterval(pollMs, maxPollMs, roundAt - recorded.round) };
    }
    const version = (recorded?.version ?? 0) + 1;
    const event: RecordedEvent = {
      id: `evt_${randomUUID()}`,
      type: KINDS[kind].type,
      tenant,
      callers: followed.callers,
      kind,
      orderId: followed.id,
      version,
      at,
      state: state as Record<string, unknown>,
    };
    return { id: followed.id, next: final ? null : roundAt + pollMs, record: { version, state: text, at, round: roundAt }, event };
  }
}

/** The follower of the server key's orders; none in pass-through mode, where the gateway holds no key to follow them with. */
export function createFollower(
  runtime: SupplierDeps & { config: Config; events: EventLog; state: { ledger: Ledger } },
  logger: Logger,
): Follower | undefined {
  const { config } = runtime;
  if (!config.serverKey || !config.followOrders) return undefined;
  return new Follower({
    serverKey: config.serverKey,
    tenant: tenantOf(config.serverKey),
    log: runtime.events,
    deps: runtime,
    ledger: runtime.state.ledger,
    pollMs: config.followPollMs,
    maxPollMs: config.followPollMaxMs,
    // A read takes one supplier deadline, retries included: a lease that lapses while a read still
    // runs costs a second read elsewhere, never a second record (the fence); a shorter one brings
    // back sooner the ids of an instance that died holding them.
    leaseMs: config.upstreamTimeoutMs + config.followPollMs,
    logger,
  });
}
