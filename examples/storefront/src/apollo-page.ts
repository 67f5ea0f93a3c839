/**
 * The Apollo Client set-up of src/apollo.ts at work for the customer signed in on the storefront in
 * this tab: who the gateway takes them for, over HTTP, then a subscription over WebSocket to their
 * order named by `?order=` until it is final.
 */
import { gatewayApollo } from './apollo';
import { graphql } from './gql';
import { currentSession } from './sign-in';

const Me = graphql(`
  query ApolloMe {
    me { caller }
  }
`);

const Watch = graphql(`
  subscription ApolloWatch($id: ID!) {
    orderStatus(id: $id) { id status isFinal }
  }
`);

const caller = document.querySelector('#caller')!;
const statuses = document.querySelector('#statuses')!;
const session = currentSession();

if (!session) {
  caller.textContent = 'nobody: sign in on the storefront first';
} else {
  const apollo = gatewayApollo(session, () => (caller.textContent = 'nobody: the sign-in expired'));
  try {
    const { data } = await apollo.query({ query: Me });
    caller.textContent = data?.me.caller ?? 'unknown';
  } catch (error) {
    caller.textContent = `unknown (${String(error)})`;
  }
  const id = new URLSearchParams(location.search).get('order');
  if (id) {
    document.querySelector('#order')!.textContent = id;
    apollo.subscribe({ query: Watch, variables: { id } }).subscribe({
      next: ({ data: event }) => {
        if (event) statuses.textContent += `${event.orderStatus.status} `;
      },
      error: (error: unknown) => {
        statuses.textContent += `error: ${String(error)}`;
      },
    });
  }
}
