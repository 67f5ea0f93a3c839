/** The sandbox's own keys (src/sandbox/world/accounts.ts): 1000.00, 0.00, and 250.00 at rates x0.8 without Spotify. */
export const DEMO_KEY = 'sandbox-demo-key';
export const EMPTY_KEY = 'sandbox-empty-key';
export const RESELLER_KEY = 'sandbox-reseller-key';
