/**
 * What GraphiQL opens on: a short tour of the API as its default query, and the Headers tab
 * filled in the way the gateway's mode needs (nothing, a supplier key or a gateway token), so
 * that the first click on "run" works or says plainly what is missing.
 */
import type { GraphiQLOptions } from 'graphql-yoga';
import type { Config } from '../config.ts';

type Mode = 'anonymous' | 'token' | 'key';

const mode = (config: Pick<Config, 'serverKey' | 'allowAnonymous'>): Mode =>
  config.serverKey === undefined ? 'key' : config.allowAnonymous ? 'anonymous' : 'token';

/** The Headers tab each mode opens with: what a caller must fill in, or nothing. */
const HEADERS: Record<Mode, Record<string, string> | undefined> = {
  anonymous: undefined,
  token: { Authorization: 'Bearer YOUR_GATEWAY_TOKEN' },
  key: { Authorization: 'Bearer YOUR_SUPPLIER_KEY' },
};

const WHO: Record<Mode, string> = {
  anonymous: `# No key is needed here: this gateway spends its own supplier key (with
# nothing configured, the built-in sandbox's demo key: no real money). If you
# were given a gateway token, put it in the Headers tab below.`,
  token: `# Put your gateway token in the Headers tab below, in place of
# YOUR_GATEWAY_TOKEN: this gateway spends its own supplier key for you.`,
  key: `# Put your HstockPlus API key in the Headers tab below, in place of
# YOUR_SUPPLIER_KEY: every call spends from that account.`,
};

function tour(who: string): string {
  return `# Welcome to the HstockPlus gateway.
#
${who}
#
# Press the run button (or Ctrl-Enter) to browse the catalogue. The Docs
# explorer (the book icon) explains every type, field and argument: units,
# when a value is null, and which error codes a field can raise.
#
# Next steps, each in a new tab:
#   mutation { addOrder(input: { serviceId: "<id below>", quantity: <its min>,
#     link: "https://instagram.com/p/abc", idempotencyKey: "my-first-order" }) { id status } }
#   subscription { orderStatus(id: "<the order id>") { status remains isFinal } }
#   query { placedOrders(first: 10) { edges { node { outcome placedAt order { id status } } } } }
#   query { smsProjects(country: "us") { id name price } }

query Tour {
  balance { amount currency }
  categories { name subcategories { name } }
  services(first: 5, category: "Instagram") {
    totalCount
    edges { node { id name rate min max entityType } }
  }
  smsCountries { code name }
}
`;
}

/** Yoga's GraphiQL options for this configuration. */
export function graphiqlOptions(config: Pick<Config, 'serverKey' | 'allowAnonymous'>): GraphiQLOptions {
  const current = mode(config);
  const headers = HEADERS[current];
  return {
    title: 'HstockPlus gateway',
    subscriptionsProtocol: 'WS',
    defaultQuery: tour(WHO[current]),
    ...(headers ? { headers: JSON.stringify(headers, null, 2), defaultEditorToolsVisibility: 'headers' } : {}),
  };
}
