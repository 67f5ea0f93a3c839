import { print, type ExecutionResult } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AddOrderDocument,
  AddSmsOrderDocument,
  OrderStatusDocument,
  OrderStatusOnlyDocument,
  OrderUpdatesDocument,
  ServicesPageDocument,
  SmsCodeDocument,
  SmsProjectsDocument,
  type OrderStatus,
  type OrderStatusSubscription,
} from '../generated/graphql.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { collectSse, collectWs, wsClient } from '../support/subscribe.ts';

let h: Harness;

const collapse = (statuses: string[]) => statuses.filter((status, i) => status !== statuses[i - 1]);

/** Moves an SMM order on as its statuses arrive: out of its 30 s of Pending, then past its end. */
function driveOrder(sandbox: Harness['sandbox']) {
  const steps = new Map<OrderStatus, number>([
    ['PENDING', 45],
    ['IN_PROGRESS', 7200],
  ]);
  return (event: ExecutionResult<OrderStatusSubscription>) => {
    const status = event.data?.orderStatus.status;
    const seconds = status && steps.get(status);
    if (!status || !seconds) return;
    steps.delete(status);
    sandbox.advance(seconds);
  };
}

beforeAll(async () => {
  h = await startHarness({
    config: { orderPollMs: 20, orderPollMaxMs: 80, smsPollMs: 20 },
    sandbox: { partialShare: 0, cancelShare: 0, smsNoCodeShare: 0 },
  });
});
afterAll(() => h.close());
beforeEach(() => {
  h.sandbox.clearFaults();
  h.sandbox.resetStats();
});

describe('orderStatus', () => {
  it('follows an order from Pending to Completed over WebSocket, then completes', async () => {
    const id = await h.placeOrder();
    const client = wsClient(h.url);
    const events = await collectWs(client, OrderStatusDocument, { id }, driveOrder(h.sandbox));
    await client.dispose();
    expect(events.every((event) => event.errors === undefined)).toBe(true);
    const states = events.map((event) => event.data!.orderStatus);
    expect(collapse(states.map((state) => state.status))).toEqual(['PENDING', 'IN_PROGRESS', 'COMPLETED']);
    expect(states.at(-1)!.isFinal).toBe(true);
    for (let i = 1; i < states.length; i += 1) expect(states[i]).not.toEqual(states[i - 1]);
  });

  it('follows an order over SSE, then completes', async () => {
    const id = await h.placeOrder();
    const events = await collectSse(h.url, OrderStatusDocument, { id }, { onEvent: driveOrder(h.sandbox) });
    expect(collapse(events.map((event) => event.data!.orderStatus.status))).toEqual(['PENDING', 'IN_PROGRESS', 'COMPLETED']);
  });

  it('ends with NOT_FOUND for an order the supplier does not know: a last event with the error at its path, the same on both transports', async () => {
    const client = wsClient(h.url);
    const ws = await collectWs(client, OrderStatusDocument, { id: '99999999' });
    await client.dispose();
    const sse = await collectSse(h.url, OrderStatusDocument, { id: '99999999' });
    for (const events of [ws, sse]) {
      expect(events).toHaveLength(1);
      expect(events[0]!.errors).toEqual([
        expect.objectContaining({ path: ['orderStatus'], extensions: expect.objectContaining({ code: 'NOT_FOUND' }) }),
      ]);
    }
    expect(h.gateway.runtime.hub.loops).toBe(0);
  });

  it('never sends a watcher the same payload twice in a row, though fields it did not select change', async () => {
    const { data } = await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' });
    const service = data!.services.edges[0]!.node;
    const placed = await h.request(AddOrderDocument, {
      input: { serviceId: service.id, quantity: service.max, link: 'https://instagram.com/p/long' },
    });
    const id = placed.data!.addOrder.id;
    const client = wsClient(h.url);
    // A watcher of every field drives the clock: out of Pending, then through the run in 30 s steps
    // (`remains` changes at each), then past the end. Another watches `status` alone.
    let step = 0;
    const everything = collectWs(client, OrderStatusDocument, { id }, (event) => {
      step += 1;
      const status = event.data?.orderStatus.status;
      h.sandbox.advance(status === 'PENDING' ? 45 : status === 'IN_PROGRESS' && step < 6 ? 30 : 7200);
    });
    const statusOnly = collectWs(client, OrderStatusOnlyDocument, { id });
    const [all, events] = await Promise.all([everything, statusOnly]);
    await client.dispose();
    expect(all.length).toBeGreaterThan(3);
    const statuses = events.map((event) => event.data?.orderStatus.status);
    expect(statuses).toEqual(['PENDING', 'IN_PROGRESS', 'COMPLETED']);
  });

  it('keeps going through injected 5xx answers without duplicate events', async () => {
    const id = await h.placeOrder();
    h.sandbox.setFaults({ serverErrorRate: 1, actions: ['status'], count: 4 });
    const client = wsClient(h.url);
    const events = await collectWs(client, OrderStatusDocument, { id }, driveOrder(h.sandbox));
    await client.dispose();
    const states = events.map((event) => event.data!.orderStatus);
    expect(collapse(states.map((state) => state.status))).toEqual(['PENDING', 'IN_PROGRESS', 'COMPLETED']);
    for (let i = 1; i < states.length; i += 1) expect(states[i]).not.toEqual(states[i - 1]);
  });
});

describe('slow supplier', () => {
  it('rides out status calls that time out, without errors or duplicate events', async () => {
    const slow = await startHarness({ config: { upstreamTimeoutMs: 150, orderPollMs: 20, orderPollMaxMs: 80 } });
    try {
      const id = await slow.placeOrder();
      slow.sandbox.resetStats();
      const drive = driveOrder(slow.sandbox);
      let slowed = false;
      const events = await collectSse(
        slow.url,
        OrderStatusDocument,
        { id },
        {
          onEvent: (event) => {
            if (!slowed) {
              slowed = true;
              // The next four status calls outlast the gateway's 150 ms deadline.
              slow.sandbox.setFaults({ latencyMs: 400, actions: ['status'], count: 4 });
            }
            drive(event);
          },
        },
      );
      expect(events.every((event) => event.errors === undefined)).toBe(true);
      const statuses = events.map((event) => event.data!.orderStatus.status);
      expect(statuses[0]).toBe('PENDING');
      expect(statuses.at(-1)).toBe('COMPLETED');
      expect(new Set(statuses).size).toBe(statuses.length);
      expect(slow.calls('status')).toBeGreaterThanOrEqual(5);
    } finally {
      await slow.close();
    }
  });
});

describe('product orders', () => {
  it("delivers a manual product's accounts as they arrive, then completes", async () => {
    const services = (await h.request(ServicesPageDocument, { first: 500 })).data!.services.edges.map((edge) => edge.node);
    const product = services.find(
      (service) =>
        service.entityType === 'PRODUCT' && !service.autoDelivery && (service.stock ?? 0) >= 3 && service.min <= 3 && service.max >= 3,
    )!;
    const placed = await h.request(AddOrderDocument, { input: { serviceId: product.id, quantity: 3 } });
    const id = placed.data!.addOrder.id;
    let step = 0;
    const events = await collectSse(
      h.url,
      OrderStatusDocument,
      { id },
      {
        onEvent: () => {
          step += 1;
          // Pending for 60 s, then three deliveries of one account over 6 minutes.
          h.sandbox.advance(step === 1 ? 61 : 121);
        },
      },
    );
    const states = events.map((event) => event.data!.orderStatus);
    expect(states[0]).toMatchObject({ status: 'PENDING', accounts: [] });
    expect(states.at(-1)).toMatchObject({ status: 'COMPLETED', isFinal: true });
    const final = states.at(-1)!.accounts;
    expect(final).toHaveLength(3);
    expect(new Set(final).size).toBe(3);
    // Accounts only ever grow, each earlier list a prefix of the final one.
    for (const state of states) expect(final.slice(0, state.accounts.length)).toEqual(state.accounts);
    expect(states.some((state) => state.accounts.length > 0 && state.accounts.length < 3)).toBe(true);
  });
});

describe('coalescing', () => {
  it('polls once for 100 watchers of one order over both transports, and stops when they leave', async () => {
    const slow = await startHarness({ config: { orderPollMs: 60_000, orderPollMaxMs: 60_000 } });
    try {
      const id = await slow.placeOrder();
      slow.sandbox.resetStats();
      const clients = [wsClient(slow.url), wsClient(slow.url), wsClient(slow.url)];
      const abort = new AbortController();
      let seen = 0;
      const allSeen = new Promise<void>((resolve) => {
        const onEvent = () => {
          seen += 1;
          if (seen === 100) resolve();
        };
        for (let i = 0; i < 60; i += 1) {
          const client = clients[i % 3]!;
          client.subscribe(
            { query: print(OrderStatusDocument), variables: { id } },
            { next: onEvent, error: () => {}, complete: () => {} },
          );
        }
        for (let i = 0; i < 40; i += 1) {
          void collectSse(slow.url, OrderStatusDocument, { id }, { signal: abort.signal, onEvent }).catch(() => {});
        }
      });
      await allSeen;
      expect(slow.calls('status')).toBe(1);
      expect(slow.gateway.runtime.hub.loops).toBe(1);
      expect(slow.gateway.runtime.hub.subscriptions).toBe(100);

      abort.abort();
      await Promise.all(clients.map((client) => client.dispose()));
      await expect.poll(() => slow.gateway.runtime.hub.subscriptions).toBe(0);
      expect(slow.gateway.runtime.hub.loops).toBe(0);
    } finally {
      await slow.close();
    }
  });
  it('stops calling the supplier once every watcher has left', async () => {
    const id = await h.placeOrder();
    const clients = [wsClient(h.url), wsClient(h.url)];
    const abort = new AbortController();
    for (const client of clients) {
      for (let i = 0; i < 3; i += 1) {
        client.subscribe({ query: print(OrderStatusDocument), variables: { id } }, { next: () => {}, error: () => {}, complete: () => {} });
      }
    }
    void collectSse(h.url, OrderStatusDocument, { id }, { signal: abort.signal }).catch(() => {});
    await expect.poll(() => h.calls('status')).toBeGreaterThanOrEqual(4);
    expect(h.gateway.runtime.hub.loops).toBe(1);

    abort.abort();
    await Promise.all(clients.map((client) => client.dispose()));
    await expect.poll(() => h.gateway.runtime.hub.loops).toBe(0);
    expect(h.gateway.runtime.hub.subscriptions).toBe(0);

    // The clock for "no more polls": an SMS watcher's own loop, whose `sms_status` calls mark
    // time. Ten of them (about 200 ms) span more than two of the order's longest intervals.
    const after = h.calls('status');
    const project = (await h.request(SmsProjectsDocument, { country: 'us' })).data!.smsProjects[0]!;
    const rented = await h.request(AddSmsOrderDocument, { input: { projectId: project.id } });
    const marks = h.calls('sms_status');
    const watcher = wsClient(h.url);
    watcher.subscribe(
      { query: print(SmsCodeDocument), variables: { orderId: rented.data!.addSmsOrder[0]!.id } },
      { next: () => {}, error: () => {}, complete: () => {} },
    );
    await expect.poll(() => h.calls('sms_status')).toBeGreaterThanOrEqual(marks + 10);
    expect(h.calls('status')).toBe(after);
    await watcher.dispose();
  });
});

describe('orderUpdates', () => {
  it('emits each order, then their changes, and completes when all are final', async () => {
    const ids = [await h.placeOrder(), await h.placeOrder()];
    const client = wsClient(h.url);
    const unseen = new Set(ids);
    const events = await collectWs(client, OrderUpdatesDocument, { ids }, (event) => {
      // Only once every order has shown its first state do they all move past their end.
      if (unseen.delete(event.data!.orderUpdates.id) && unseen.size === 0) h.sandbox.advance(7200);
    });
    await client.dispose();
    for (const id of ids) {
      const statuses = events
        .map((event) => event.data!.orderUpdates)
        .filter((order) => order.id === id)
        .map((order) => order.status);
      expect(statuses[0]).toBe('PENDING');
      expect(statuses.at(-1)).toBe('COMPLETED');
    }
  });

  it('refuses more than 100 ids', async () => {
    const client = wsClient(h.url);
    const ids = Array.from({ length: 101 }, (_, i) => String(i + 1));
    const [event] = await collectWs(client, OrderUpdatesDocument, { ids });
    await client.dispose();
    expect(event?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(h.calls('status')).toBe(0);
  });
});

describe('smsCode', () => {
  it('delivers the code when it arrives, then completes', async () => {
    const project = (await h.request(SmsProjectsDocument, { country: 'us' })).data!.smsProjects[0]!;
    const rented = await h.request(AddSmsOrderDocument, { input: { projectId: project.id } });
    const id = rented.data!.addSmsOrder[0]!.id;
    const events = await collectSse(
      h.url,
      SmsCodeDocument,
      { orderId: id },
      {
        onEvent: (event) => {
          if (event.data?.smsCode.code === null) h.sandbox.advance(60);
        },
      },
    );
    const last = events.at(-1)!.data!.smsCode;
    expect(events[0]!.data!.smsCode.status).toBe('ACTIVE');
    expect(last).toMatchObject({ status: 'CODE_RECEIVED', isFinal: true });
    expect(last.smsContent).toContain(last.code!);
  });

  it('ends when the number expires without a code', async () => {
    const project = (await h.request(SmsProjectsDocument, { country: 'gb' })).data!.smsProjects[0]!;
    const rented = await h.request(AddSmsOrderDocument, { input: { projectId: project.id } });
    const id = rented.data!.addSmsOrder[0]!.id;
    h.sandbox.forceSms(Number(id), { outcome: 'no_code' });
    const client = wsClient(h.url);
    const events = await collectWs(client, SmsCodeDocument, { orderId: id }, (event) => {
      if (event.data?.smsCode.status === 'ACTIVE') h.sandbox.advance(1300);
    });
    await client.dispose();
    expect(events.map((event) => event.data!.smsCode.status)).toEqual(['ACTIVE', 'EXPIRED']);
  });
});
