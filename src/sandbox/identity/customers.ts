/** The people who can sign in to the sandbox's identity provider, and the gateway scopes each may be granted. */

/** What a customer of the shop may be granted; a client gets those of them it asks for. */
export const CUSTOMER_SCOPES = ['catalogue:read', 'orders:read', 'orders:place', 'sms:rent'] as const;

/** Every scope of the gateway: the customers' and `account:read`, which only staff are granted. */
export const GATEWAY_SCOPES = [...CUSTOMER_SCOPES, 'account:read'] as const;

export interface DemoCustomer {
  /** The `sub` of their tokens, stable across restarts. */
  subject: string;
  login: string;
  password: string;
  name: string;
  /** What they may spend a day through the gateway, a decimal string; tokens carry it as the `spend_limit` claim. */
  spendLimit?: string;
  /** The gateway scopes they may be granted. */
  scopes: readonly string[];
}

export const DEMO_CUSTOMERS: readonly DemoCustomer[] = [
  { subject: 'customer-alice', login: 'alice', password: 'alice-demo', name: 'Alice Example', scopes: CUSTOMER_SCOPES },
  { subject: 'customer-bob', login: 'bob', password: 'bob-demo', name: 'Bob Example', spendLimit: '14.50', scopes: CUSTOMER_SCOPES },
  { subject: 'customer-carol', login: 'carol', password: 'carol-demo', name: 'Carol Example', scopes: CUSTOMER_SCOPES },
  { subject: 'staff-sam', login: 'sam', password: 'sam-demo', name: 'Sam (staff)', scopes: GATEWAY_SCOPES },
];

export function customerWithLogin(login: string): DemoCustomer | undefined {
  return DEMO_CUSTOMERS.find((customer) => customer.login === login);
}

export function customerWithSubject(subject: string): DemoCustomer | undefined {
  return DEMO_CUSTOMERS.find((customer) => customer.subject === subject);
}
