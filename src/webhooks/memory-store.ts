/**
 * Webhook endpoints and deliveries in this process: for the sandbox and for trying the gateway
 * out. Lost on a restart, with every delivery not yet made: production sets REDIS_URL.
 */
import {
  DELIVERY_RETENTION_MS,
  FAILING,
  GONE,
  UnknownCursorError,
  type AttemptRecord,
  type Claim,
  type DeliveryPage,
  type EndpointOutcome,
  type Owner,
  type Secret,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookStore,
} from './store.ts';

const owns = (owner: Owner, of: Owner) => of.tenant === owner.tenant && of.caller === owner.caller;

export class MemoryWebhookStore implements WebhookStore {
  readonly #endpoints = new Map<string, WebhookEndpoint>();
  readonly #deliveries = new Map<string, WebhookDelivery & { fence: number; dueAt: number | null }>();

  async addEndpoint(endpoint: WebhookEndpoint) {
    this.#endpoints.set(endpoint.id, structuredClone(endpoint));
  }

  async endpoint(owner: Owner, id: string) {
    const endpoint = this.#endpoints.get(id);
    return endpoint && owns(owner, endpoint) ? structuredClone(endpoint) : undefined;
  }

  async endpointById(id: string) {
    const endpoint = this.#endpoints.get(id);
    return endpoint && structuredClone(endpoint);
  }

  async endpoints(owner: Owner) {
    return [...this.#endpoints.values()].filter((endpoint) => owns(owner, endpoint)).map((endpoint) => structuredClone(endpoint));
  }

  async deleteEndpoint(owner: Owner, id: string) {
    const endpoint = this.#endpoints.get(id);
    return Boolean(endpoint && owns(owner, endpoint) && this.#endpoints.delete(id));
  }

  async setSecrets(id: string, secrets: Secret[]) {
    const endpoint = this.#endpoints.get(id);
    if (endpoint) endpoint.secrets = structuredClone(secrets);
  }

  async endpointOutcome(id: string, outcome: EndpointOutcome, now: number, disableAfterMs: number) {
    const endpoint = this.#endpoints.get(id);
    if (!endpoint) return;
    if (outcome === 'ok') {
      endpoint.failingSince = null;
      return;
    }
    endpoint.failingSince ??= now;
    if (!endpoint.enabled) return;
    if (outcome === 'gone') Object.assign(endpoint, { enabled: false, disabledReason: GONE });
    else if (now - endpoint.failingSince >= disableAfterMs) Object.assign(endpoint, { enabled: false, disabledReason: FAILING });
  }

  async enqueue(deliveries: WebhookDelivery[]) {
    for (const delivery of deliveries) {
      if (!this.#deliveries.has(delivery.id)) this.#deliveries.set(delivery.id, { ...delivery, fence: 0, dueAt: delivery.createdAt });
    }
    const oldest = Date.now() - DELIVERY_RETENTION_MS;
    for (const [id, delivery] of this.#deliveries) if (delivery.dueAt === null && delivery.createdAt < oldest) this.#deliveries.delete(id);
  }

  async claim(now: number, max: number, leaseMs: number): Promise<Claim[]> {
    const due = [...this.#deliveries.values()]
      .filter((delivery) => delivery.dueAt !== null && delivery.dueAt <= now)
      .sort((a, b) => a.dueAt! - b.dueAt!)
      .slice(0, max);
    return due.map((delivery) => {
      delivery.fence += 1;
      delivery.attempts += 1;
      delivery.dueAt = now + leaseMs;
      const { fence, dueAt: _dueAt, ...plain } = delivery;
      return { delivery: plain, fence };
    });
  }

  async settle(id: string, fence: number, record: AttemptRecord) {
    const delivery = this.#deliveries.get(id);
    if (!delivery || delivery.fence !== fence) return false;
    Object.assign(delivery, record, { dueAt: record.nextAttemptAt });
    return true;
  }

  async deliveries(owner: Owner, endpointId: string, first: number, after?: string): Promise<DeliveryPage> {
    const all = [...this.#deliveries.values()]
      .filter((delivery) => delivery.endpointId === endpointId && owns(owner, delivery))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    let start = 0;
    if (after !== undefined) {
      start = all.findIndex((delivery) => delivery.id === after) + 1;
      if (start === 0) throw new UnknownCursorError(after);
    }
    const page = all.slice(start, start + first).map(({ fence: _fence, dueAt: _dueAt, ...plain }) => plain);
    return { deliveries: page, hasNextPage: start + first < all.length, totalCount: all.length };
  }

  async delivery(owner: Owner, id: string) {
    const delivery = this.#deliveries.get(id);
    if (!delivery || !owns(owner, delivery)) return undefined;
    const { fence: _fence, dueAt: _dueAt, ...plain } = delivery;
    return plain;
  }

  async redeliver(owner: Owner, id: string, now: number) {
    const delivery = this.#deliveries.get(id);
    if (!delivery || !owns(owner, delivery)) return undefined;
    Object.assign(delivery, { status: 'PENDING', attempts: 0, nextAttemptAt: now, dueAt: now, fence: delivery.fence + 1 });
    return this.delivery(owner, id);
  }

  async pending() {
    return [...this.#deliveries.values()].filter((delivery) => delivery.dueAt !== null).length;
  }
}
