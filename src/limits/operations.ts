/**
 * What an operation may be, checked before it runs, and the browser protections beside them.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import { PREFLIGHT_HEADERS } from '../auth/authenticator.ts';

/**
 * The operation limits, by name. The cost limit weighs the work of building a response (fields
 * times `first`); supplier calls are the upstream budget's (budget.ts). Every documented
 * operation passes, `services(first: 500)` with every field included.
 */
export const OPERATION_LIMITS = { depth: 12, aliases: 100, directives: 20, tokens: 5000, cost: 50_000 } as const;

/** Operation limits and browser protections, in one place. */
export function protections(): Plugin[] {
  return [
    EnvelopArmorPlugin({
      maxDepth: { n: OPERATION_LIMITS.depth },
      maxAliases: { n: OPERATION_LIMITS.aliases },
      maxDirectives: { n: OPERATION_LIMITS.directives },
      maxTokens: { n: OPERATION_LIMITS.tokens },
      costLimit: { maxCost: OPERATION_LIMITS.cost },
      blockFieldSuggestion: { enabled: false },
    }),
    // A form post or bare GET from another site would skip the browser's CORS preflight and could
    // spend the key; any of these headers proves the caller is not such a "simple" request.
    useCSRFPrevention({ requestHeaders: PREFLIGHT_HEADERS }),
  ] as Plugin[];
}
