import {
  getOperationAST,
  GraphQLError,
  Kind,
  locatedError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { StreamSubscriber, type SubscriptionGroups } from '../../subscriptions/groups.ts';
import { admitWatcher } from '../../subscriptions/watch.ts';
import type { Context } from '../context.ts';

/** Runs a subscription through the whole plugin chain, as the group's one execution. */
export type ExecuteSubscription = (args: ExecutionArgs) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;

/**
 * Every subscription, over either transport, joins the group of subscribers whose events would be
 * identical (subscriptions/groups.ts). Placed after the plugins that check each subscriber (request
 * limits and credential failures, the upstream budget, the access log) and before those that
 * belong to the one execution (tracing, distinct events, metrics, error masking): a joiner stops
 * here, with its place in the group as its result.
 */
export function useSubscriptionGroups(groups: SubscriptionGroups, execute: ExecuteSubscription): Plugin<Context> {
  const executions = new WeakSet<ExecutionArgs>();
  return {
    onSubscribe: async ({ args, setResultAndStopExecution }) => {
      if (executions.has(args)) return;
      const ctx = args.contextValue;
      const root = rootField(args.document, args.operationName);
      const path = root ? [root.alias?.value ?? root.name.value] : [];
      const subscriber = ctx.subscriber ?? new StreamSubscriber();
      const refused = await groups.join(
        {
          key: groupKey(args),
          path,
          expiresAt: ctx.identity.ok ? ctx.identity.customer?.expiresAt : undefined,
          execute: () => {
            const own = { ...args };
            executions.add(own);
            return execute(own);
          },
          weight: () => ctx.watched,
          admit: (weight) => admitWatcher(ctx, weight),
          refusal: (error) => {
            if (!(error instanceof GraphQLError)) throw error;
            return { errors: [locatedError(error, root ? [root] : [], path)] };
          },
        },
        subscriber,
      );
      setResultAndStopExecution(refused ?? (subscriber as StreamSubscriber));
    },
  };
}

function rootField(document: DocumentNode, operationName?: string | null): FieldNode | undefined {
  const selection = getOperationAST(document, operationName)?.selectionSet.selections[0];
  return selection?.kind === Kind.FIELD ? selection : undefined;
}

/**
 * A parsed document is the same object for the same text while the parser's cache keeps it, so
 * its number stands for its text; one parsed again gets a new number and a group of its own.
 */
const documentNumbers = new WeakMap<DocumentNode, number>();
let documents = 0;

function documentNumber(document: DocumentNode): number {
  let number = documentNumbers.get(document);
  if (number === undefined) documentNumbers.set(document, (number = ++documents));
  return number;
}

/**
 * Everything that decides what a subscriber receives: the operation, and who asks. The caller is
 * left out only where it reads its whole tenant, so two callers who may see different orders never
 * share a group; the scopes decide which fields resolve, the limit key whose places a joiner takes.
 */
function groupKey(args: ExecutionArgs & { contextValue: Context }): string {
  const { identity } = args.contextValue;
  const who = identity.ok
    ? [
        identity.tenant,
        args.contextValue.supplier.limitKey,
        identity.readsAll ? '*' : identity.caller,
        identity.scopes ? [...identity.scopes].sort().join(' ') : '*',
      ]
    : ['!', identity.reason];
  const operation = [documentNumber(args.document), args.operationName ?? '', stableJson(args.variableValues ?? {})];
  return JSON.stringify([...operation, ...who]);
}

/** JSON with every object's keys in order: the same variables, however a client ordered them. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
