/**
 * A small storefront on the gateway for signed-in customers: browse the catalogue, place an order
 * with an idempotency key, watch it live until it is final, and list the customer's own orders with
 * what they may still spend today. No prices: the gateway knows only the supplier's wholesale rates,
 * which customers may not read; a reseller shows its own prices from its own backend.
 */
import type { Client, CombinedError } from '@urql/core';
import { gatewayClient } from './client';
import { graphql } from './gql';
import type { StorefrontCatalogueQuery } from './gql/graphql';
import { currentSession, finishSignIn, signIn, signInFailure, signOut, type Session } from './sign-in';

const Account = graphql(`
  query StorefrontAccount {
    me { spendLimit { limit remaining resetsAt } }
  }
`);

const Catalogue = graphql(`
  query StorefrontCatalogue($category: String) {
    categories { name }
    services(first: 10, category: $category) {
      edges { node { id name min max } }
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

/** What a customer should read for each error code the gateway sends. */
function explain(error: CombinedError): string {
  const [first] = error.graphQLErrors;
  if (!first) return `The gateway cannot be reached (${error.networkError?.message ?? 'network error'}).`;
  const { code, reason, orderMayExist, retryAfterSeconds } = first.extensions as {
    code?: string;
    reason?: string;
    orderMayExist?: boolean;
    retryAfterSeconds?: number;
  };
  switch (code) {
    case 'UPSTREAM_UNAVAILABLE':
      return orderMayExist
        ? 'The supplier did not answer: the order may have been placed. Placing it again is safe, it will not be placed twice.'
        : 'The supplier is not answering. Try again in a moment.';
    case 'RATE_LIMITED':
      return `Too many requests: try again in ${retryAfterSeconds ?? 1} s.`;
    case 'INSUFFICIENT_BALANCE':
      return reason === 'SPEND_LIMIT'
        ? 'This order is more than you may spend today.'
        : 'The shop cannot take this order now: try again later.';
    case 'UNAUTHENTICATED':
      return 'The gateway did not take your sign-in: sign out and sign in again.';
    default:
      return first.message;
  }
}

let client: Client;
let signedIn = false;

function showError(error: CombinedError | undefined) {
  if (!signedIn) return;
  const box = $('#error');
  box.hidden = !error;
  box.textContent = error ? explain(error) : '';
}

async function loadAccount() {
  const { data, error } = await client.query(Account, {}, { requestPolicy: 'network-only' });
  if (error) return showError(error);
  const limit = data?.me.spendLimit;
  $('#spend').hidden = !limit;
  if (!limit) return;
  $('#spend-remaining').textContent = `${limit.remaining} of ${limit.limit}`;
  $('#spend-resets').textContent = new Date(limit.resetsAt).toLocaleString();
}

async function loadCatalogue(category?: string) {
  const { data, error } = await client.query(Catalogue, { category }, { requestPolicy: 'network-only' });
  showError(error);
  if (!data) return;
  const select = $<HTMLSelectElement>('#category');
  if (select.options.length === 0) {
    select.append(...data.categories.map((each) => new Option(each.name, each.name, false, each.name === category)));
  }
  const rows = data.services.edges.map(({ node }) => {
    const row = document.createElement('tr');
    const button = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Order' });
    button.addEventListener('click', () => choose(node));
    row.append(cell(node.name), cell(`${node.min}–${node.max}`), document.createElement('td'));
    row.lastElementChild!.append(button);
    return row;
  });
  $('#services tbody').replaceChildren(...rows);
}

let chosen: Service | undefined;
/**
 * One key per intended order, made when the customer picks a service or edits the form: however
 * often the button is clicked, before or after an answer, or again after a lost one, it places once.
 */
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
    watch(data.addOrder.id);
    await Promise.all([loadPlaced(), loadAccount()]);
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
    const status = node.order?.status ?? (node.outcome === 'UNCONFIRMED' ? 'UNCONFIRMED: the shop is checking it' : '');
    const placedAt = new Date(node.placedAt).toLocaleString();
    row.append(cell(node.order?.id ?? '—'), cell(node.serviceId), cell(String(node.quantity)), cell(status), cell(placedAt));
    return row;
  });
  $('#placed tbody').replaceChildren(...rows);
}

const LEFT = 'storefront.left';
const REASONS = { 'signed-out': 'You are signed out.', expired: 'Your sign-in has expired: sign in again.' };

/** Forgets the session and loads the page afresh, so that nothing of the customer stays in it, nor any socket. */
function leave(why: keyof typeof REASONS) {
  if (!signedIn) return;
  signedIn = false;
  signOut();
  sessionStorage.setItem(LEFT, why);
  location.replace(location.pathname);
}

function showSignedOut(reason: string) {
  $('#signed-out').hidden = false;
  $('#signed-out-reason').textContent = reason;
  document.body.dataset.state = 'signed-out';
}

async function showShop(session: Session) {
  client = gatewayClient(session, () => leave('expired'));
  signedIn = true;
  $('#customer').textContent = session.name;
  $('#account').hidden = false;
  $('#shop').hidden = false;
  await Promise.all([loadAccount(), loadCatalogue('Instagram'), loadPlaced()]);
  if (signedIn) document.body.dataset.state = 'signed-in';
}

$('#sign-in').addEventListener('click', () => {
  signIn().catch((error: unknown) => ($('#signed-out-reason').textContent = `The sign-in page cannot be reached: ${signInFailure(error)}`));
});
$('#sign-out').addEventListener('click', () => leave('signed-out'));
$<HTMLSelectElement>('#category').addEventListener('change', (event) => void loadCatalogue((event.target as HTMLSelectElement).value));
$<HTMLFormElement>('#order').addEventListener('submit', (event) => void place(event));
$<HTMLFormElement>('#order').addEventListener('input', () => (idempotencyKey = crypto.randomUUID()));

async function start() {
  const left = sessionStorage.getItem(LEFT) as keyof typeof REASONS | null;
  sessionStorage.removeItem(LEFT);
  let session: Session | undefined;
  try {
    session = (await finishSignIn()) ?? currentSession();
  } catch (error) {
    return showSignedOut(`The sign-in did not complete: ${signInFailure(error)}`);
  }
  if (session) await showShop(session);
  else showSignedOut(left ? REASONS[left] : '');
}

await start();
