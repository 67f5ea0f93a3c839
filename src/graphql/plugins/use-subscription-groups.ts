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
import type { Identity } from '../../auth/authenticator.ts';
import {
  isGroupExecution,
  markGroupExecution,
  StreamSubscriber,
  type JoinRequest,
  type SubscriptionGroups,
} from '../../subscriptions/groups.ts';
import { admitWatcher } from '../../subscriptions/watch.ts';
import { createContext, type Context, type OperationContext, type ServerContext } from '../context.ts';

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
  return {
    onSubscribe: async ({ args, setResultAndStopExecution }) => {
      if (isGroupExecution(args)) return;
      const ctx = args.contextValue as Context & { request?: Request };
      // Over HTTP only an event stream can carry a subscription: anything else is refused before
      // it joins a group whose events it would never read.
      if (ctx.request && !streams(ctx.request)) {
        const error = new GraphQLError('A subscription over HTTP needs Accept: text/event-stream (or use WebSocket).', {
          extensions: { code: 'BAD_USER_INPUT' },
        });
        return setResultAndStopExecution({ errors: [error] });
      }
      const subscriber = ctx.subscriber ?? new StreamSubscriber();
      let execution: Context | undefined;
      // A caller without an identity is refused by its execution, and has no limits of its own.
      const limitKey = ctx.identity.ok ? ctx.supplier.limitKey : '';
      const request = joinRequest(ctx.runtime, args.document, args.operationName, args.variableValues, ctx.identity, limitKey);
      const refused = await groups.join(
        {
          ...request,
          execute: () => {
            execution = detached(ctx);
            const own = { ...args, contextValue: execution };
            markGroupExecution(own);
            return execute(own);
          },
          weight: () => execution?.watched ?? 0,
        },
        subscriber,
      );
      if (refused) return setResultAndStopExecution(refused);
      const stream = subscriber as StreamSubscriber;
      // An SSE client that went while it was joining is never pulled, so never told to leave.
      if (ctx.request?.signal.aborted) void stream.return();
      else ctx.request?.signal.addEventListener('abort', () => void stream.return(), { once: true });
      setResultAndStopExecution(stream);
    },
  };
}

/**
 * What joining a group takes, but its execution: the group's key, the root field's path, when the
 * subscriber's token expires, its admission under the limits, and how a refusal of it reads. A
 * socket joins a running group with this alone (http/ws-connection.ts).
 */
export function joinRequest(
  runtime: OperationContext['runtime'],
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  identity: Identity,
  limitKey: string,
): Omit<JoinRequest, 'execute' | 'weight'> {
  const root = rootField(document, operationName);
  const path = root ? [root.alias?.value ?? root.name.value] : [];
  return {
    key: groupKey(document, operationName, variables, identity, limitKey),
    path,
    expiresAt: identity.ok ? identity.customer?.expiresAt : undefined,
    admit: (weight) => admitWatcher(runtime, limitKey, weight),
    refusal: (error) => {
      if (!(error instanceof GraphQLError)) throw error;
      return { errors: [locatedError(error, root ? [root] : [], path)] };
    },
  };
}

/**
 * The context a group's execution runs with for as long as the group lives: the first
 * subscriber's caller, fresh loaders, and its request for the address a failing credential is
 * charged to (with that request's closed socket object), but not its subscriber, its stream or its
 * credentials.
 */
function detached(ctx: Context & Partial<ServerContext>): Context {
  return { ...createContext(ctx.runtime, ctx.identity), requestId: ctx.requestId, req: ctx.req } as Context;
}

/** Whether a request accepts a response a subscription can be streamed in. */
function streams(request: Request): boolean {
  const accept = request.headers.get('accept') ?? '';
  return accept.includes('text/event-stream') || accept.includes('multipart/mixed');
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
function groupKey(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  identity: Identity,
  limitKey: string,
): string {
  const who = identity.ok
    ? [identity.tenant, limitKey, identity.readsAll ? '*' : identity.caller, identity.scopes ? [...identity.scopes].sort() : '*']
    : ['!', identity.reason];
  return JSON.stringify([documentNumber(document), operationName ?? '', stableJson(variables ?? {}), ...who]);
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
