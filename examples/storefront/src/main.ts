/**
 * A small storefront on the gateway: browse the catalogue, place an order with an idempotency key,
 * watch it live until it is final, and list the orders this caller placed.
 */
import type { CombinedError } from '@urql/core';
import { client } from './client';
import { graphql } from './gql';
import type { StorefrontCatalogueQuery } from './gql/graphql';

const Catalogue = graphql(`
  query StorefrontCatalogue($category: String) {
    balance { amount currency }
    categories { name }
    services(first: 10, category: $category) {
      edges { node { id name rate min max entityType } }
    }
  }
`);

const PlaceOrder = graphql(`
  mutation StorefrontPlaceOrder($input: AddOrderInput!) {
    addOrder(input: $input) { id status }
  }
`);

const WatchOrder = graphql(`
  subscription StorefrontWatchOrder($id: ID!) {
    orderStatus(id: $id) { id status remains isFinal }
  }
`);

const Placed = graphql(`
  query StorefrontPlaced {
    placedOrders(first: 10) {
      totalCount
      edges { node { outcome idempotencyKey placedAt serviceId quantity order { id status } } }
    }
  }
`);

type Service = StorefrontCatalogueQuery['services']['edges'][number]['node'];

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const cell = (text: string) => Object.assign(document.createElement('td'), { textContent: text });

/** What a shopper should read for each error code the gateway sends. */
function explain(error: CombinedError): string {
  const [first] = error.graphQLErrors;
  if (!first) return `The gateway cannot be reached (${error.networkError?.message ?? 'network error'}).`;
  const { code, orderMayExist, retryAfterSeconds } = first.extensions as { code?: string; orderMayExist?: boolean; retryAfterSeconds?: number };
  switch (code) {
    case 'UPSTREAM_UNAVAILABLE':
      return orderMayExist
        ? 'The supplier did not answer: the order may have been placed. Placing it again is safe, it will not be placed twice.'
        : 'The supplier is not answering. Try again in a moment.';
    case 'RATE_LIMITED':
      return `Too many requests: try again in ${retryAfterSeconds ?? 1} s.`;
    case 'INSUFFICIENT_BALANCE':
      return 'The balance does not cover this order.';
    default:
      return first.message;
  }
}

function showError(error: CombinedError | undefined) {
  const box = $('#error');
  box.hidden = !error;
  box.textContent = error ? explain(error) : '';
}

async function loadCatalogue(category?: string) {
  const { data, error } = await client.query(Catalogue, { category }, { requestPolicy: 'network-only' });
  showError(error);
  if (!data) return;
  $('#balance').textContent = `${data.balance.amount} ${data.balance.currency}`;
  const select = $<HTMLSelectElement>('#category');
  if (select.options.length === 0) {
    select.append(...data.categories.map((each) => new Option(each.name, each.name, false, each.name === category)));
  }
  const rows = data.services.edges.map(({ node }) => {
    const row = document.createElement('tr');
    const button = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Order' });
    button.addEventListener('click', () => choose(node));
    const unit = node.entityType === 'SMM' ? 'per 1000' : 'each';
    row.append(cell(node.name), cell(`${node.rate} ${unit}`), cell(`${node.min}–${node.max}`), document.createElement('td'));
    row.lastElementChild!.append(button);
    return row;
  });
  $('#services tbody').replaceChildren(...rows);
}

let chosen: Service | undefined;
/** One key per intended order: kept when placing fails, so trying again cannot place it twice. */
let idempotencyKey = crypto.randomUUID();
let placing = false;

function choose(service: Service) {
  chosen = service;
  idempotencyKey = crypto.randomUUID();
  const form = $<HTMLFormElement>('#order');
  form.hidden = false;
  $('#order-hint').hidden = true;
  $('#order-service').textContent = `${service.name} (service ${service.id})`;
  const quantity = form.elements.namedItem('quantity') as HTMLInputElement;
  Object.assign(quantity, { min: String(service.min), max: String(service.max), value: String(service.min) });
}

async function place(event: SubmitEvent) {
  event.preventDefault();
  if (!chosen || placing) return;
  placing = true;
  const form = event.target as HTMLFormElement;
  const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  try {
    const input = { serviceId: chosen.id, quantity: Number(field('quantity')), link: field('link'), idempotencyKey };
    const { data, error } = await client.mutation(PlaceOrder, { input });
    showError(error);
    // An answer lost on the way: the placement is listed (UNCONFIRMED), and the key is kept.
    if (error?.graphQLErrors[0]?.extensions.orderMayExist) await loadPlaced();
    if (!data) return;
    idempotencyKey = crypto.randomUUID(); // placed: the next order is a new intent
    watch(data.addOrder.id);
    await Promise.all([loadPlaced(), loadCatalogue($<HTMLSelectElement>('#category').value)]);
  } finally {
    placing = false;
  }
}

let watching: { unsubscribe(): void } | undefined;

function watch(id: string) {
  watching?.unsubscribe();
  $('#live').hidden = false;
  $('#live-id').textContent = id;
  $('#live-status').textContent = '…';
  watching = client.subscription(WatchOrder, { id }).subscribe(({ data, error }) => {
    if (error) return showError(error);
    if (!data) return;
    const order = data.orderStatus;
    $('#live-status').textContent = order.status;
    $('#live-remains').textContent = order.remains === null || order.remains === undefined ? '' : `(${order.remains} to go)`;
    if (order.isFinal) void loadPlaced();
  });
}

async function loadPlaced() {
  const { data, error } = await client.query(Placed, {}, { requestPolicy: 'network-only' });
  if (error) return showError(error);
  const rows = (data?.placedOrders.edges ?? []).map(({ node }) => {
    const row = document.createElement('tr');
    row.dataset.key = node.idempotencyKey ?? '';
    const status = node.order?.status ?? (node.outcome === 'UNCONFIRMED' ? 'UNCONFIRMED: check with the supplier' : '');
    row.append(cell(node.order?.id ?? '—'), cell(node.serviceId), cell(String(node.quantity)), cell(status), cell(new Date(node.placedAt).toLocaleString()));
    return row;
  });
  $('#placed tbody').replaceChildren(...rows);
}

$<HTMLSelectElement>('#category').addEventListener('change', (event) => void loadCatalogue((event.target as HTMLSelectElement).value));
$<HTMLFormElement>('#order').addEventListener('submit', (event) => void place(event));
await Promise.all([loadCatalogue('Instagram'), loadPlaced()]);
document.body.dataset.ready = 'true';
