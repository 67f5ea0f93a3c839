/**
 * The upstream budget of an operation: the most supplier calls it could make, worked out from the
 * document and its variables before any resolver runs. Depth, alias and token limits see the
 * text only; ids in variables, aliases of list fields and nested connections with their `first`
 * are what multiply supplier calls, and they are counted here. Calls that the per-request
 * loaders and the shared cache make once (one `status` per distinct id, one `services` per
 * filter) are counted once.
 */
import {
  getArgumentValues,
  getNamedType,
  getOperationAST,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badInput } from '../errors.ts';

/** Bounds of lists whose length only the supplier knows; generous for today's catalogue. */
const CATEGORIES = 30;
const SUBCATEGORIES = 20;
const SMS_COUNTRIES = 200;
const NUMBERS_PER_RENTAL = 10;
const DEFAULT_PAGE = 50;

type Args = Record<string, unknown>;

interface FieldCost {
  /** Calls that are the same whoever asks: counted once per operation (cache and loaders dedupe them). */
  once?: (args: Args) => string[];
  /** Calls made each time the field is resolved. */
  each?: number;
  /** How many times what is selected below runs. */
  items?: (args: Args) => number;
  /** Calls made per item when any of these fields is selected below (a state loaded on demand). */
  onDemand?: { calls: number; fields: ReadonlySet<string> };
}

const ORDER_STATE = new Set([
  'status',
  'rawStatus',
  'charge',
  'startCount',
  'remains',
  'autoDelivery',
  'entityType',
  'accounts',
  'isFinal',
]);
const SMS_STATE = new Set(['phone', 'country', 'status', 'rawStatus', 'code', 'smsContent', 'charge', 'expiresAt', 'isFinal']);

const page = (args: Args) => (typeof args.first === 'number' ? args.first : DEFAULT_PAGE);
const ids = (args: Args, name: string) => (Array.isArray(args[name]) ? (args[name] as unknown[]).map(String) : [String(args[name])]);
const filter = (args: Args) => `services:${String(args.category ?? '')}:${String(args.subcategory ?? '')}`;

/** What each field costs in supplier calls; a field not listed costs nothing. */
const COSTS: Record<string, FieldCost> = {
  'Query.balance': { once: () => ['balance'] },
  'Query.categories': { once: () => ['categories'], items: () => CATEGORIES },
  'Query.category': { once: () => ['categories'] },
  'Category.subcategories': { items: () => SUBCATEGORIES },
  'Category.services': { each: 1, items: page },
  'Subcategory.services': { each: 1, items: page },
  'Query.services': { once: (args) => [filter(args)], items: page },
  'Query.service': { once: () => ['services::'] },
  'Service.inventory': { each: 1 },
  'Query.order': { once: (args) => ids(args, 'id').map((id) => `status:${id}`) },
  'Query.orders': { once: (args) => ids(args, 'ids').map((id) => `status:${id}`), items: (args) => ids(args, 'ids').length },
  'Query.smsCountries': { once: () => ['sms_countries'], items: () => SMS_COUNTRIES },
  'SmsCountry.projects': { once: () => ['sms_projects:'] },
  'Query.smsProjects': { once: (args) => [`sms_projects:${String(args.country ?? '')}`] },
  'Query.smsOrder': { once: (args) => ids(args, 'id').map((id) => `sms_status:${id}`) },
  'SmsOrder.smsContent': { each: 1 },
  'Query.placedOrders': { items: page },
  'PlacedOrder.order': { onDemand: { calls: 1, fields: ORDER_STATE } },
  'Query.placedSmsOrders': { items: page },
  'PlacedSmsOrder.smsOrders': { items: () => NUMBERS_PER_RENTAL, onDemand: { calls: 1, fields: SMS_STATE } },
  // Checks before the spend (catalogue, stock, balance), then the spend itself.
  'Mutation.addOrder': { each: 4, onDemand: { calls: 1, fields: ORDER_STATE } },
  'Mutation.addSmsOrder': { each: 3, items: () => NUMBERS_PER_RENTAL, onDemand: { calls: 1, fields: SMS_STATE } },
  'Subscription.orderStatus': { once: (args) => ids(args, 'id').map((id) => `status:${id}`) },
  'Subscription.orderUpdates': { once: (args) => ids(args, 'ids').map((id) => `status:${id}`) },
  'Subscription.smsCode': { once: (args) => ids(args, 'orderId').map((id) => `sms_status:${id}`) },
};

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  once: Set<string>;
}

/** The fields a selection set selects, through fragments and inline fragments. */
function fieldsOf(selections: SelectionSetNode, walk: Walk, seen = new Set<string>()): FieldNode[] {
  return selections.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return fieldsOf(selection.selectionSet, walk, seen);
    const name = selection.name.value;
    const fragment = walk.fragments.get(name);
    if (!fragment || seen.has(name)) return [];
    return fieldsOf(fragment.selectionSet, walk, new Set(seen).add(name));
  });
}

function argsOf(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): Args {
  try {
    return getArgumentValues(field, node, variables);
  } catch {
    return {}; // invalid arguments fail in execution, before any call
  }
}

/** Worst-case calls below `selections` of `type`, each run `times` times. */
function cost(type: GraphQLObjectType, selections: SelectionSetNode, times: number, walk: Walk): number {
  let total = 0;
  for (const node of fieldsOf(selections, walk)) {
    const field = type.getFields()[node.name.value];
    if (!field) continue;
    const spec = COSTS[`${type.name}.${field.name}`] ?? {};
    const args = argsOf(field, node, walk.variables);
    if (spec.once) {
      if (times === 1) for (const key of spec.once(args)) walk.once.add(key);
      else total += times * spec.once(args).length;
    }
    total += times * (spec.each ?? 0);
    const below = getNamedType(field.type);
    if (!node.selectionSet || !isObjectType(below)) continue;
    const items = times * Math.max(0, spec.items?.(args) ?? 1);
    const asked = spec.onDemand && fieldsOf(node.selectionSet, walk).some((child) => spec.onDemand!.fields.has(child.name.value));
    if (asked) total += items * spec.onDemand!.calls;
    total += cost(below, node.selectionSet, items, walk);
  }
  return total;
}

export function upstreamCalls(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): number {
  const operation: OperationDefinitionNode | null | undefined = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return 0;
  const fragments = new Map(
    document.definitions
      .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
  const walk: Walk = { schema, fragments, variables, once: new Set() };
  return cost(root, operation.selectionSet, 1, walk) + walk.once.size;
}

/**
 * Worst cases already worked out, per parsed document (the parser's cache keeps one object per
 * text) and operation and variables: the same subscription started by thousands of watchers, or
 * the same query asked again, is walked once. A few variable sets per document are kept.
 */
const worked = new WeakMap<DocumentNode, Map<string, number>>();
const VARIABLE_SETS_PER_DOCUMENT = 64;

function remembered(document: DocumentNode, key: string, work: () => number): number {
  let known = worked.get(document);
  if (!known) worked.set(document, (known = new Map()));
  let calls = known.get(key);
  if (calls === undefined) {
    if (known.size >= VARIABLE_SETS_PER_DOCUMENT) known.clear();
    known.set(key, (calls = work()));
  }
  return calls;
}

/** Refuses, before any supplier call, an operation whose worst case is over `max` calls. */
export function useUpstreamBudget(max: number): Plugin {
  const check = (args: {
    schema: GraphQLSchema;
    document: DocumentNode;
    operationName?: string | null;
    variableValues?: Record<string, unknown> | null;
  }) => {
    const calls = remembered(args.document, `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`, () =>
      upstreamCalls(args.schema, args.document, args.operationName, args.variableValues ?? {}),
    );
    if (calls <= max) return undefined;
    return badInput(
      `This operation could make up to ${calls} supplier calls; at most ${max} are allowed (MAX_UPSTREAM_CALLS_PER_OPERATION). Ask for fewer ids, items or aliases.`,
      { limit: 'MAX_UPSTREAM_CALLS_PER_OPERATION', max, calls },
    );
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => {
      const refused = check(args);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
    onSubscribe: ({ args, setResultAndStopExecution }) => {
      const refused = check(args);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
  };
}
