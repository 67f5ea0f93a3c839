import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { OPERATION_LIMITS } from '../../limits/operations.ts';
import type { Metrics } from '../../observability/metrics.ts';

/** GraphQL Armor words its refusals as syntax errors without a code; these are their names. */
const ARMOR_LIMITS: ReadonlyArray<[RegExp, keyof typeof OPERATION_LIMITS]> = [
  [/^Syntax Error: Query Cost limit/, 'cost'],
  [/^Syntax Error: Query depth limit/, 'depth'],
  [/^Syntax Error: Aliases limit/, 'aliases'],
  [/^Syntax Error: Directives limit/, 'directives'],
  [/^Syntax Error: Token limit/, 'tokens'],
];

/** Messages echo input (a bad id, a bad variable); past this they are cut. */
const MAX_MESSAGE = 200;

/**
 * What a client is told of an error: a limit named and coded (BAD_USER_INPUT), a message cut
 * short whatever input it echoes, no parser text from inside, no transport hints.
 */
export function clientError(error: GraphQLError): GraphQLError {
  const limit = ARMOR_LIMITS.find(([pattern]) => pattern.test(error.message))?.[1];
  const { originalError: _parser, ...extensions } = error.extensions as Record<string, unknown>;
  const message = limit ? error.message.replace(/^Syntax Error: /, '') : error.message;
  const cut = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
  if (!limit && cut === message && _parser === undefined) return error;
  return new GraphQLError(cut, {
    nodes: error.nodes,
    path: error.path,
    extensions: limit ? { ...extensions, code: 'BAD_USER_INPUT', limit, max: OPERATION_LIMITS[limit] } : extensions,
  });
}

/** Applies clientError to every error a request answers with, and counts the limits met. */
export function useClientErrors(metrics: Metrics): Plugin {
  return {
    onResultProcess: ({ result, setResult }) => {
      if (Array.isArray(result) || isAsyncIterable(result) || !result.errors?.length) return;
      countLimits(result.errors, metrics);
      setResult({ ...result, errors: result.errors.map((error) => clientError(error as GraphQLError)) });
    },
  };
}

/** Each RATE_LIMITED error, by the reason it carries. */
export function countLimits(errors: ReadonlyArray<{ extensions?: Record<string, unknown> }>, metrics: Metrics): void {
  for (const error of errors) {
    if (error.extensions?.code === 'RATE_LIMITED') metrics.rateLimited.inc({ reason: String(error.extensions.reason ?? 'SUPPLIER') });
  }
}
