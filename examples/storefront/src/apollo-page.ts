/**
 * The Apollo Client set-up of src/apollo.ts at work: a query over HTTP, then a subscription over
 * WebSocket to the order named by `?order=` until it is final.
 */
import { apollo } from './apollo';
import { graphql } from './gql';

const Balance = graphql(`
  query ApolloBalance {
    balance { amount currency }
  }
`);

const Watch = graphql(`
  subscription ApolloWatch($id: ID!) {
    orderStatus(id: $id) { id status isFinal }
  }
`);

const { data } = await apollo.query({ query: Balance });
document.querySelector('#balance')!.textContent = data ? `${data.balance.amount} ${data.balance.currency}` : 'unavailable';

const id = new URLSearchParams(location.search).get('order');
if (id) {
  document.querySelector('#order')!.textContent = id;
  apollo.subscribe({ query: Watch, variables: { id } }).subscribe({
    next: ({ data: event }) => {
      if (event) document.querySelector('#statuses')!.textContent += `${event.orderStatus.status} `;
    },
    error: (error: unknown) => {
      document.querySelector('#statuses')!.textContent += `error: ${String(error)}`;
    },
  });
}
